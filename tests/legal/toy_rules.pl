/*  Toy rules for testing the reasoner runtime. Not tax law: a stand-in with the same interface
    as ontology/statutes (dynamic vocabulary predicates, prove/2 returning a proof dict).
*/
:- use_module(library(process)).
:- dynamic person_/1, age_/2, parent_/2, label_/2.

adult(P) :- person_(P), age_(P, A), A >= 18.
grandparent(G, C) :- parent_(G, P), parent_(P, C).
total_age(Sum) :- aggregate_all(sum(A), age_(_, A), Sum).
label(X, L) :- label_(X, L).
loop_forever :- loop_forever.
grow(L) :- grow([L|L]).
calls_missing(X) :- missing_predicate(X).

opaque(loop_forever).
opaque(grow(_)).
opaque(crash).
opaque(stubborn).

citation(adult(_), "toy §1(a)").
citation(grandparent(_, _), "toy §2").
citation(total_age(_), "toy §3").

%!  prove(+Goal, -Proof) is semidet.
%   A small meta-interpreter: rule goals get children, vocabulary facts are listed in facts.
%   The misbehaving helpers run as plain calls so they misbehave exactly as written.
prove(Goal, _{goal: "opaque", citation: null, children: [], value: null, facts: []}) :-
    opaque(Goal), !,
    call(Goal).
prove(Goal, _{goal: G, citation: null, children: [], value: null, facts: [G]}) :-
    predicate_property(Goal, dynamic), !,
    call(Goal),
    format(string(G), "~q", [Goal]).
prove(Goal, _{goal: G, citation: C, children: Kids, value: V}) :-
    \+ predicate_property(Goal, built_in),
    \+ predicate_property(Goal, imported_from(_)),
    predicate_property(Goal, number_of_clauses(_)), !,
    clause(Goal, Body),
    prove_body(Body, Kids),
    format(string(G), "~q", [Goal]),
    ( citation(Goal, C) -> true ; C = null ),
    ( Goal = total_age(V0) -> V = V0 ; V = null ).
prove(Goal, _{goal: G, citation: null, children: [], value: null, facts: []}) :-
    call(Goal),
    format(string(G), "~q", [Goal]).

prove_body((A, B), Ps) :- !, prove_body(A, P1), prove_body(B, P2), append(P1, P2, Ps).
prove_body(true, []) :- !.
prove_body(G, [P]) :- prove(G, P).

% Runtime-test helpers: each misbehaves in its own way.
% A crash: the process is gone without a word (as when the kernel kills it). Not halt/1: after
% an alarm of call_with_time_limit has run, SWI-Prolog 9.0's cleanup in halt can deadlock in
% library(time), and the worker then hangs until the pool kills it as timed out.
crash :- current_prolog_flag(pid, Pid), process_kill(Pid, kill).
stubborn :- catch(loop_forever, _, stubborn).   % swallows the time limit exception
chatty(X) :- label_(X, _), writeln(noise_on_stdout), format(user_output, "more noise~n", []).

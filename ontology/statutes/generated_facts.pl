/*  generated_facts.pl -- run the rules by which a case file generates its
    facts, goal-directed, and never drop a fact in silence.

    A case may state its events through rules: one payment per year
    (between/3 and atom_concat/3), one service per listed day (member/2),
    roles computed from the event's name (sub_atom/5, split_string/4), ...
    Any legal way of writing them must give the same facts.  Typed events
    are enumerated first (unary predicates: payment_(E)); each role
    (agent_(E, X)) is then run as it is written, and, where that needs its
    subject bound (an instantiation error), once for each known subject:
    the typed events and the subjects of the other role facts.

    An exception while running a clause is an error of the case, with the
    clause's line: case_error(expansion, Message, Line).  The caller gives
    the line of a clause reference (LineOf: call(LineOf, Ref, Line)).

    expand_vocabulary(+Module, +Types, +Roles, :LineOf, -Ground, -NonGround)
        Types: names of unary vocabulary predicates Module defines, Roles
        of binary ones.  Ground: the ground instances (heads); NonGround:
        instances that kept a variable (reported, not data).
*/
:- module(generated_facts, [expand_vocabulary/6]).

:- use_module(library(apply)).
:- use_module(library(lists)).

:- meta_predicate expand_vocabulary(+, +, +, 2, -, -).

expand_vocabulary(M, Types, Roles, LineOf, Ground, NonGround) :-
    foldl(type_instances(M, LineOf), Types, [], TypeInsts),
    role_subjects(M, Roles, TypeInsts, Subjects),
    foldl(role_instances(M, LineOf, Subjects), Roles, TypeInsts, All),
    partition(ground, All, Ground0, NonGround0),
    sort(Ground0, Ground),
    sort(NonGround0, NonGround).

type_instances(M, LineOf, Name, Acc0, Acc) :-
    functor(H, Name, 1),
    findall(H, clause_solution(M, LineOf, H, unbound), Hs),
    append(Acc0, Hs, Acc).

%   The subjects a role may be asked about: the typed events, and the first
%   argument of every role fact that is stated without a body.
role_subjects(M, Roles, TypeInsts, Subjects) :-
    findall(S, ( member(I, TypeInsts), arg(1, I, S), ground(S) ), S1),
    findall(S, ( member(R, Roles), functor(H, R, 2),
                 catch(clause(M:H, true), _, fail),
                 arg(1, H, S), ground(S) ), S2),
    append(S1, S2, S0),
    sort(S0, Subjects).

role_instances(M, LineOf, Subjects, Name, Acc0, Acc) :-
    functor(H, Name, 2),
    findall(H, clause_solution(M, LineOf, H, Subjects), Hs),
    append(Acc0, Hs, Acc).

%!  clause_solution(+M, :LineOf, ?Head, +Subjects) a solution of one
%   clause of Head's predicate.  Subjects: unbound (types) or the list to
%   bind a role's subject from when the clause needs it bound.
clause_solution(M, LineOf, H, Subjects) :-
    clause(M:H, Body, Ref),
    run_clause(M, LineOf, Ref, H, Body, Subjects).

run_clause(M, LineOf, Ref, H, Body, Subjects) :-
    copy_term(H-Body, H1-B1),
    catch(findall(H1, M:B1, Sols), E, true),
    (   var(E)
    ->  member(H, Sols)
    ;   limit_exception(E)
    ->  throw(E)
    ;   Subjects \== unbound,
        instantiation_problem(E)
    ->  bound_solutions(M, LineOf, Ref, H, Body, Subjects)
    ;   case_error(LineOf, Ref, E)
    ).

bound_solutions(M, LineOf, Ref, H, Body, Subjects) :-
    findall(H1,
            ( member(S, Subjects),
              copy_term(H-Body, H1-B1),
              arg(1, H1, S),
              catch(M:B1, E, ( limit_exception(E) -> throw(E) ; case_error(LineOf, Ref, E) )) ),
            Sols),
    member(H, Sols).

%   Limits are the caller's business (time, inferences, stacks): not the
%   clause's error.
limit_exception(time_limit_exceeded).
limit_exception(inference_limit_exceeded).
limit_exception(error(resource_error(_), _)).

instantiation_problem(error(instantiation_error, _)).
instantiation_problem(error(type_error(_, V), _)) :- var(V).

case_error(LineOf, Ref, E) :-
    (   catch(call(LineOf, Ref, Line), _, fail) -> true ; Line = null ),
    message(E, Msg0),
    format(string(Msg), "while generating facts: ~w", [Msg0]),
    throw(case_error(expansion, Msg, Line)).

message(E, Msg) :-
    catch(( message_to_codes(E, Codes), string_codes(Msg, Codes) ), _, fail), !.
message(E, Msg) :- format(string(Msg), "~q", [E]).

message_to_codes(E, Codes) :-
    '$messages':translate_message(E, Lines, []),
    with_output_to(codes(Codes0), print_message_lines(current_output, '', Lines)),
    strip_trailing(Codes0, Codes).

strip_trailing(C0, C) :-
    reverse(C0, R0),
    drop_space(R0, R),
    reverse(R, C).
drop_space([C|T], R) :- code_type(C, space), !, drop_space(T, R).
drop_space(R, R).

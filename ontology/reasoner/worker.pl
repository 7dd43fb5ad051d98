/*  Reasoner worker: loads rule files once, then answers one JSON request per line.

    Usage: swipl [--stack-limit=...] worker.pl -- [--prove=Name] File...

    After loading, writes {"ready": true, "pid": Pid} (or {"ready": false, "error": ...}).
    Then, for each request line
        {"id": Id, "facts": ["marriage_(e1)", ...], "query": "tax(alice,2019,A)",
         "limits": {"time_s": 10, "inferences": null}}
    it checks every fact (a ground term p_(a) or p_(a, b) whose arguments are atoms, numbers
    or strings; anything else is rejected, so facts are data and never directives), asserts
    them, runs Prove(Goal, Proof) once under the limits, erases the facts and any tables, and
    writes one line:
        {"id", "ok": true, "bindings": {...}, "proof": {...}, "elapsed_s", "inferences"}
        {"id", "ok": false, "error": {"code", "message"}}
    Codes: timeout, resource, existence_error, syntax, bad_fact, bad_goal, no_proof,
    bad_request, prolog_error.

    The goal must call a predicate defined by the loaded rules, with atomic or variable
    arguments only: builtins and library predicates (shell/1, ...) are refused.
*/
:- module(modx_reasoner_worker, [main/0]).

:- use_module(library(http/json)).
:- use_module(library(time)).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(option)).
:- use_module(library(yall)).

:- dynamic loading/0, load_error/1, vocab_home/2, prove_name/1.

:- multifile user:message_hook/3.
:- dynamic user:message_hook/3.
user:message_hook(Term, error, Lines) :-
    loading,
    catch(( with_output_to(string(S), print_message_lines(current_output, '', Lines)),
            assertz(load_error(S)) ), _, assertz(load_error(Term))),
    fail.

main :-
    set_prolog_flag(verbose, silent),
    stream_property(Out, alias(user_output)),
    set_stream(Out, encoding(utf8)),
    set_stream(user_input, encoding(utf8)),
    % Rules and goals may print; keep that off the protocol stream.
    set_stream(user_error, alias(user_output)),
    set_output(user_error),
    current_prolog_flag(argv, Argv),
    partition([A]>>sub_atom(A, 0, _, _, '--'), Argv, Opts, Files),
    (   member(O, Opts), atom_concat('--prove=', P, O) -> true ; P = prove ),
    assertz(prove_name(P)),
    load_rules(Files, Ready),
    reply(Out, Ready),
    (   Ready.ready == true -> loop(Out) ; halt(1) ).

load_rules(Files, Ready) :-
    assertz(loading),
    catch(forall(member(F, Files), load_files(user:F, [if(true)])), E, assertz(load_error(E))),
    retractall(loading),
    findall(M, load_error(M), Errors),
    (   Errors == []
    ->  index_vocabulary,
        current_prolog_flag(pid, Pid),
        Ready = _{ready: true, pid: Pid}
    ;   maplist(to_text, Errors, Texts),
        atomic_list_concat(Texts, '\n', Msg),
        Ready = _{ready: false, error: _{code: load_error, message: Msg}}
    ).

%   Where each dynamic vocabulary predicate (name ending in "_", arity 1-2) lives, so facts
%   land in the module the rules read them from (user when undeclared).
index_vocabulary :-
    forall(( current_module(M), current_predicate(M:N/A), between(1, 2, A),
             sub_atom(N, _, 1, 0, '_'), functor(H, N, A),
             predicate_property(M:H, dynamic),
             \+ predicate_property(M:H, imported_from(_)) ),
           assertz(vocab_home(N/A, M))).

loop(Out) :-
    read_line_to_string(user_input, Line),
    (   Line == end_of_file
    ->  halt(0)
    ;   catch(handle(Line, Resp), E, (error_dict(E, Err), Resp = _{id: null, ok: false, error: Err})),
        reply(Out, Resp),
        loop(Out)
    ).

reply(Out, Dict) :-
    json_write_dict(Out, Dict, [width(0)]),
    nl(Out),
    flush_output(Out).

handle(Line, Resp) :-
    (   catch(atom_json_dict(Line, Req, [value_string_as(string)]), _, fail),
        is_dict(Req)
    ->  true
    ;   throw(worker_error(bad_request, "request is not a JSON object"))
    ),
    Id = Req.get(id, null),
    catch(answer(Req, Result), E, (error_dict(E, Err), Result = _{ok: false, error: Err})),
    Resp = Result.put(id, Id).

answer(Req, Result) :-
    Limits = Req.get(limits, _{}),
    time_limit(Limits, TimeS),
    inference_limit(Limits, Inf),
    maplist(parse_fact, Req.get(facts, []), Facts),
    parse_goal(Req.query, Goal, Vs),
    prove_name(Prove),
    statistics(inferences, I0),
    get_time(T0),
    setup_call_cleanup(
        assert_facts(Facts, Refs),
        run(Prove, Goal, TimeS, Inf, Outcome),
        ( maplist(erase, Refs), abolish_all_tables )),
    get_time(T1),
    statistics(inferences, I1),
    Elapsed is T1 - T0,
    Used is I1 - I0,
    outcome(Outcome, Goal, Vs, Elapsed, Used, Result).

time_limit(L, T) :- T0 = L.get(time_s, 10), ( number(T0), T0 > 0 -> T = T0 ; T = 10 ).
inference_limit(L, I) :- I0 = L.get(inferences, null), ( integer(I0), I0 > 0 -> I = I0 ; I = infinite ).

run(Prove, Goal, TimeS, Inf, Outcome) :-
    catch(call_with_time_limit(TimeS, limited(Prove, Goal, Inf, Outcome)),
          E, Outcome = thrown(E)).

limited(Prove, Goal, infinite, Outcome) :- !,
    (   call(user:Prove, Goal, Proof) -> Outcome = proved(Proof) ; Outcome = failed ).
limited(Prove, Goal, Inf, Outcome) :-
    (   call_with_inference_limit(call(user:Prove, Goal, Proof), Inf, R)
    ->  (   R == inference_limit_exceeded
        ->  Outcome = thrown(inference_limit_exceeded)
        ;   Outcome = proved(Proof)
        )
    ;   Outcome = failed
    ).

outcome(proved(Proof), _, Vs, Elapsed, Used,
        _{ok: true, bindings: B, proof: P, elapsed_s: Elapsed, inferences: Used}) :-
    jsonable(Proof, P),
    findall(N-V, (member(N = X, Vs), jsonable(X, V)), Pairs),
    dict_pairs(B, _, Pairs).
outcome(failed, Goal, Vs, _, _, _{ok: false, error: _{code: no_proof, message: Msg}}) :-
    format(string(Msg), "no proof of ~W", [Goal, [quoted(true), variable_names(Vs)]]).
outcome(thrown(E), _, _, _, _, _{ok: false, error: Err}) :-
    error_dict(E, Err).

%   --- facts -------------------------------------------------------------------

parse_fact(Text, Fact) :-
    (   string(Text) -> true ; throw(worker_error(bad_fact, "a fact must be a string")) ),
    catch(read_single(Text, Fact, Vs), error(syntax_error(S), _),
          ( format(string(M), "fact ~q: syntax error: ~w", [Text, S]),
            throw(worker_error(bad_fact, M)) )),
    (   Vs == [], ground(Fact), compound(Fact),
        compound_name_arity(Fact, N, A), between(1, 2, A),
        sub_atom(N, _, 1, 0, '_'), N \== '_',
        Fact =.. [_|Args], maplist(atomic, Args)
    ->  true
    ;   format(string(M), "not a fact: ~q (expected p_(x) or p_(x, y) with atomic arguments)",
               [Text]),
        throw(worker_error(bad_fact, M))
    ).

assert_facts(Facts, Refs) :-
    foldl(assert_fact, Facts, Refs, []).

assert_fact(Fact, [Ref|T], T) :-
    functor(Fact, N, A),
    (   vocab_home(N/A, M) -> true ; M = user ),
    catch(assertz(M:Fact, Ref), E,
          ( message_text(E, Msg), throw(worker_error(bad_fact, Msg)) )).

%   --- goal --------------------------------------------------------------------

parse_goal(Text, Goal, Vs) :-
    (   string(Text) -> true ; throw(worker_error(bad_goal, "query must be a string")) ),
    catch(read_single(Text, Goal, Vs), error(syntax_error(S), _),
          ( format(string(M), "query ~q: syntax error: ~w", [Text, S]),
            throw(worker_error(syntax, M)) )),
    (   callable(Goal), \+ control(Goal), Goal =.. [_|Args],
        forall(member(X, Args), (var(X) ; atomic(X)))
    ->  true
    ;   throw(worker_error(bad_goal,
                           "query must be one predicate call with atomic or variable arguments"))
    ),
    functor(Goal, N, A),
    (   current_predicate(user:N/A)
    ->  true
    ;   format(string(M), "Unknown procedure: ~q", [N/A]),
        throw(worker_error(existence_error, M))
    ),
    (   predicate_property(user:Goal, implementation_module(IM)),
        IM \== modx_reasoner_worker,
        module_property(IM, class(user))
    ->  true
    ;   format(string(M), "~q is not a rule of the loaded statutes", [N/A]),
        throw(worker_error(bad_goal, M))
    ).

control((_, _)).  control((_ ; _)).  control((_ -> _)).  control(\+ _).  control(_:_).

%   Read exactly one term (the final period is optional); trailing text is a syntax error
%   rather than silently ignored.
read_single(Text0, Term, Vs) :-
    split_string(Text0, "", " \t\r\n", [Text1]),
    (   sub_string(Text1, _, 1, 0, ".") -> Text = Text1 ; string_concat(Text1, " .", Text) ),
    setup_call_cleanup(open_string(Text, S),
        ( read_term(S, Term, [variable_names(Vs), syntax_errors(error)]),
          read_term(S, Rest, [syntax_errors(error)]) ),
        close(S)),
    (   Rest == end_of_file, Term \== end_of_file
    ->  true
    ;   throw(error(syntax_error(expected_exactly_one_term), _))
    ).

%   --- JSON ----------------------------------------------------------------------

jsonable(X, X) :- number(X), !.
jsonable(X, X) :- string(X), !.
jsonable(X, X) :- memberchk(X, [null, true, false]), !.
jsonable(X, S) :- atom(X), !, atom_string(X, S).
jsonable(X, D) :- is_dict(X), !, dict_pairs(X, _, Ps0),
    maplist([K-V0, K-V]>>jsonable(V0, V), Ps0, Ps), dict_pairs(D, _, Ps).
jsonable(X, L) :- is_list(X), !, maplist(jsonable, X, L).
jsonable(X, S) :- format(string(S), "~q", [X]).

to_text(X, S) :- string(X), !, S = X.
to_text(X, S) :- message_text(X, S).

error_dict(worker_error(Code, Msg), _{code: Code, message: Msg}) :- !.
error_dict(time_limit_exceeded, _{code: timeout, message: "time limit exceeded"}) :- !.
error_dict(inference_limit_exceeded, _{code: resource, message: "inference limit exceeded"}) :- !.
error_dict(error(resource_error(R), _), _{code: resource, message: M}) :- !,
    format(string(M), "resource exhausted: ~w", [R]).
error_dict(error(existence_error(procedure, PI), _), _{code: existence_error, message: M}) :- !,
    format(string(M), "Unknown procedure: ~q", [PI]).
error_dict(error(existence_error(What, X), context(_, Why)), _{code: incomplete_case, message: M}) :-
    memberchk(What, [case_individual, case_date, case_amount]), !,
    format(string(M), "~w: ~q", [Why, X]).
error_dict(error(syntax_error(S), _), _{code: syntax, message: M}) :- !,
    format(string(M), "syntax error: ~w", [S]).
error_dict(E, _{code: prolog_error, message: M}) :-
    message_text(E, M).

message_text(E, Msg) :-
    catch(( '$messages':translate_message(E, Lines, []),
            with_output_to(string(S0), print_message_lines(current_output, '', Lines)),
            split_string(S0, "", "\n ", [Msg]) ),
          _, fail), !.
message_text(E, Msg) :-
    format(string(Msg), "~q", [E]).

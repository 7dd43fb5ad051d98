/*  Expansion server for SARA case files.

    Reads one JSON request per line on stdin:
        {"id": ..., "facts_text": ..., "test_text": ..., "limits": {"time_s", "inferences"}}
    where facts_text and test_text are the whole case file with every line
    outside the section blanked (so reported line numbers are file line
    numbers). Writes one JSON response per line on stdout.

    The facts part is untrusted input. It is never consulted: each clause is
    read as a term and asserted into a temporary module that is deleted
    afterwards.  Directives other than discontiguous/dynamic and the
    dataset's init line are refused.  Every rule body must pass
    library(sandbox)'s safe_goal/1, which knows the whole safe subset of
    SWI-Prolog; a short deny-list of ours refuses what sandbox allows but a
    case must not do (changing the database, printing).  The vocabulary
    (name ending in "_", arity 1 or 2) is then expanded goal-directed
    (generated_facts.pl) under a time and inference limit; an exception
    there is an error of the case with its line.
*/
:- module(sara_expand, [main/0]).

:- use_module(library(http/json)).
:- use_module(library(modules)).
:- use_module(library(time)).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(yall)).
:- use_module(library(sandbox)).
:- use_module(case_helpers).
:- use_module('../statutes/generated_facts').

:- dynamic clause_line/2.

%   The date helpers case files call are ours and pure (they only compute):
%   declared safe rather than analysed, since sandbox does not know every
%   text builtin they use.
:- multifile sandbox:safe_primitive/1.
sandbox:safe_primitive(sara_case_helpers:first_day_year(_, _)).
sandbox:safe_primitive(sara_case_helpers:last_day_year(_, _)).
sandbox:safe_primitive(sara_case_helpers:is_before(_, _)).

main :-
    set_prolog_flag(verbose, silent),
    stream_property(Out, alias(user_output)),
    set_stream(Out, encoding(utf8)),
    set_stream(user_input, encoding(utf8)),
    % Anything a case prints must not corrupt the protocol stream.
    set_stream(user_error, alias(user_output)),
    loop(Out).

loop(Out) :-
    read_line_to_string(user_input, Line),
    (   Line == end_of_file
    ->  true
    ;   catch(handle_line(Line, Resp), E, error_response(E, Resp)),
        json_write_dict(Out, Resp, [width(0)]),
        nl(Out),
        flush_output(Out),
        garbage_collect,
        loop(Out)
    ).

error_response(E, _{id: null, ok: false, error: Err}) :-
    error_dict(E, Err).

handle_line(Line, Resp) :-
    atom_json_dict(Line, Req, [value_string_as(string)]),
    get_dict(id, Req, Id),
    Limits = Req.get(limits, _{}),
    TimeS = Limits.get(time_s, 5),
    Inferences = Limits.get(inferences, 50000000),
    catch(expand(Req.facts_text, Req.test_text, TimeS, Inferences, Result),
          E, (error_dict(E, Err), Result = _{ok: false, error: Err})),
    Resp = Result.put(id, Id).

expand(FactsText, TestText, TimeS, Inferences, Result) :-
    read_clauses(FactsText, Clauses),
    read_test(TestText, Tests),
    in_temporary_module(M,
        add_import_module(M, sara_case_helpers, start),
        expand_in(M, Clauses, TimeS, Inferences, Types, Roles, NonGround, Other)),
    Result = _{ok: true, types: Types, roles: Roles, non_ground: NonGround,
               other: Other, tests: Tests}.

%   --- reading -----------------------------------------------------------

%   clause(Term, Line, Text): one clause of the facts part.
read_clauses(Text, Clauses) :-
    setup_call_cleanup(open_string(Text, S), read_all(S, Text, Terms), close(S)),
    include(is_clause, Terms, Clauses0),
    maplist(check_directive, Terms),
    Clauses = Clauses0.

read_all(S, Text, Terms) :-
    read_one(S, Text, T),
    (   T == end_of_file
    ->  Terms = []
    ;   Terms = [T|Rest],
        read_all(S, Text, Rest)
    ).

read_one(S, Text, Item) :-
    catch(read_term(S, Term, [ term_position(Pos), subterm_positions(Sub),
                                variable_names(Vs), syntax_errors(error) ]),
          error(syntax_error(What), Ctx), true),
    (   nonvar(What)
    ->  syntax_line(Ctx, Line),
        format(string(Msg), "syntax error: ~w", [What]),
        throw(case_error(syntax, Msg, Line))
    ;   Term == end_of_file
    ->  Item = end_of_file
    ;   stream_position_data(line_count, Pos, Line),
        term_text(Text, Sub, Src),
        Item = item(Term, Vs, Line, Src)
    ).

syntax_line(stream(_, Line, _, _), Line) :- !.
syntax_line(string(_, _), null) :- !.
syntax_line(_, null).

term_text(Text, Sub, Src) :-
    arg(1, Sub, From), arg(2, Sub, To), !,
    Len is To - From,
    sub_string(Text, From, Len, _, Src).
term_text(_, _, "").

is_clause(item(T, _, _, _)) :- \+ T = (:- _).

check_directive(item((:- D), _, Line, _)) :- !,
    (   allowed_directive(D)
    ->  true
    ;   format(string(Msg), "directive not allowed in case facts: ~q", [D]),
        throw(case_error(directive_not_allowed, Msg, Line))
    ).
check_directive(item((_ --> _), _, Line, _)) :- !,
    throw(case_error(directive_not_allowed, "grammar rules are not allowed", Line)).
check_directive(_).

allowed_directive(discontiguous(_)).
allowed_directive(dynamic(_)).
allowed_directive([statutes/prolog/init]).   % the dataset's loader line: ignored

%   --- checking and asserting ---------------------------------------------

expand_in(M, Clauses, TimeS, Inferences, Types, Roles, NonGround, Other) :-
    findall(N/A, (member(item(C, _, _, _), Clauses), clause_head(C, H),
                  callable(H), functor(H, N, A)), Defined0),
    sort(Defined0, Defined),
    forall(member(Item, Clauses), check_clause(Item)),
    retractall(clause_line(_, _)),
    forall(member(item(C, _, Line, _), Clauses),
           ( catch(assertz(M:C, Ref), E, (message_of(E, Msg),
                                         throw(case_error(bad_clause, Msg, Line)))),
             assertz(clause_line(Ref, Line)) )),
    forall(member(Item, Clauses), check_safe(M, Item)),
    include(vocabulary, Defined, Vocab),
    limited(enumerate(M, Vocab, Types, Roles, NonGround), TimeS, Inferences),
    findall(_{name: N, arity: A, line: L, text: Src},
            ( member(item(C, _, L, Src), Clauses), clause_head(C, H),
              functor(H, N, A), \+ vocabulary(N/A) ),
            Other).

clause_head((H :- _), H) :- !.
clause_head(H, H).

check_clause(item(C, _, Line, _)) :-
    clause_head(C, H),
    (   callable(H), H \= _:_
    ->  true
    ;   throw(case_error(bad_clause, "clause head is not a predicate", Line))
    ),
    (   functor(H, N, A), functor(G, N, A), predicate_property(system:G, defined)
    ->  format(string(Msg), "clause redefines the built-in ~w/~w", [N, A]),
        throw(case_error(bad_clause, Msg, Line))
    ;   true
    ),
    (   C = (_ :- B)
    ->  denied_call(B, Line)
    ;   true
    ).

%   library(sandbox) decides what a rule body may call, following the calls
%   into the case's own predicates and the date helpers.
check_safe(M, item((_ :- B), _, Line, _)) :- !,
    catch(safe_goal(M:B), E,
          ( message_of(E, Msg0),
            format(string(Msg), "goal not allowed in case facts: ~w", [Msg0]),
            throw(case_error(unsafe_goal, Msg, Line)) )).
check_safe(_, _).

%   What sandbox allows but a case must not do: change the database (even
%   its own temporary module) or print.  Any such term in a body is refused.
denied_call(B, Line) :-
    (   sub_term(T, B), callable(T), functor(T, N, A), denied(N/A)
    ->  format(string(Msg), "goal not allowed in case facts: ~w/~w", [N, A]),
        throw(case_error(unsafe_goal, Msg, Line))
    ;   true
    ).

denied(assert/1).   denied(asserta/1).  denied(assertz/1).  denied(retract/1).
denied(asserta/2).  denied(assertz/2).  denied(retractall/1). denied(erase/1).
denied(abolish/1).  denied(abolish/2).  denied(format/1).   denied(format/2).
denied(print_message/2). denied(nb_setval/2). denied(b_setval/2). denied(recorda/3).
denied(recordz/3).  denied(flag/3).

vocabulary(N/A) :-
    between(1, 2, A),
    sub_atom(N, _, 1, 0, '_'),
    N \== '_'.

%   --- enumeration --------------------------------------------------------

enumerate(M, Vocab, Types, Roles, NonGround) :-
    findall(N, member(N/1, Vocab), TypeNames),
    findall(N, member(N/2, Vocab), RoleNames),
    expand_vocabulary(M, TypeNames, RoleNames, line_of, Ground, NonGround0),
    findall(Row, (member(H, Ground), functor(H, _, 1), H =.. Row), Types0),
    findall(Row, (member(H, Ground), functor(H, _, 2), H =.. Row), Roles0),
    sort(Types0, Types1), sort(Roles0, Roles1),
    maplist(encode_row, Types1, Types),
    maplist(encode_row, Roles1, Roles),
    %   A vocabulary rule can yield instances with variables, e.g. the case
    %   fact purpose_(_, "agricultural labor"); those are not data and are
    %   reported apart, as text.
    findall(T, ( member(H, NonGround0), format(string(T), "~q", [H]) ), NonGround1),
    sort(NonGround1, NonGround).

line_of(Ref, Line) :- clause_line(Ref, Line).

encode_row([N|Args], [N|Enc]) :- maplist(encode_value, Args, Enc).

encode_value(X, X) :- number(X), !.
% An atom goes as a JSON string: json_write_dict/3 would write the atoms true,
% false and null as JSON constants (a person named true came back a bool).
encode_value(X, _{a: S}) :- atom(X), !, atom_string(X, S).
encode_value(X, _{s: X}) :- string(X), !.
encode_value(X, _) :-
    format(string(Msg), "unsupported value in a fact: ~q (only atoms, strings and numbers)", [X]),
    throw(case_error(unsupported_term, Msg, null)).

limited(Goal, TimeS, Inferences) :-
    catch(call_with_time_limit(TimeS,
              call_with_inference_limit(Goal, Inferences, R)),
          time_limit_exceeded,
          throw(case_error(timeout, "expanding the case rules took too long", null))),
    (   R == inference_limit_exceeded
    ->  throw(case_error(resource, "expanding the case rules used too many inferences", null))
    ;   true
    ).

%   --- test section --------------------------------------------------------

read_test(Text, Tests) :-
    setup_call_cleanup(open_string(Text, S), read_all(S, Text, Items), close(S)),
    foldl(test_item, Items, Tests0, []),
    Tests = Tests0.

test_item(item((:- halt), _, _, _)) --> !.
test_item(item((:- G0), Vs, Line, Src)) --> !,
    { (   G0 = (\+ G)
      ->  Neg = true
      ;   G = G0, Neg = false
      ),
      goal_dict(G, Vs, Line, Src, Neg, D) },
    [D].
test_item(item(_, _, Line, _)) -->
    { throw(case_error(bad_test, "the Test section must hold directives (:- Goal.)", Line)) }.

goal_dict(G, Vs, Line, _, Neg, _{name: N, args: Args, negated: Neg, line: Line, text: Src}) :-
    format(string(Src), "~W", [G, [quoted(true), variable_names(Vs), spacing(next_argument)]]),
    (   callable(G), G \= (_, _)
    ->  G =.. [N|Args0],
        maplist(encode_arg(Vs), Args0, Args)
    ;   N = null, Args = []
    ).

encode_arg(Vs, X, _{v: Name}) :- var(X), !,
    (   member(Name0 = V, Vs), V == X -> Name = Name0 ; Name = '_' ).
encode_arg(_, X, J) :- atomic(X), !, encode_value(X, J).
encode_arg(Vs, X, _{t: T}) :-
    format(string(T), "~W", [X, [quoted(true), variable_names(Vs)]]).

%   --- errors ----------------------------------------------------------------

error_dict(case_error(Code, Msg, Line), _{code: Code, message: Msg, line: Line}) :- !.
error_dict(time_limit_exceeded, _{code: timeout, message: "time limit exceeded", line: null}) :- !.
error_dict(error(resource_error(R), _), _{code: resource, message: Msg, line: null}) :- !,
    format(string(Msg), "resource exhausted: ~w", [R]).
error_dict(E, _{code: prolog_error, message: Msg, line: null}) :-
    message_of(E, Msg).

message_of(E, Msg) :-
    catch(( '$messages':translate_message(E, Lines, []),
            with_output_to(string(S0), print_message_lines(current_output, '', Lines)),
            split_string(S0, "", "\n ", [Msg]) ),
          _, fail), !.
message_of(E, Msg) :-
    format(string(Msg), "~q", [E]).

/*  proof.pl -- proof trees for statutory reasoning.

    prove(+Goal, -Proof)
        Runs Goal through the statute clauses and returns a proof tree, an
        SWI-Prolog dict that json_write_dict/2,3 can serialize:

          _{goal:      "s63_b(alice,2017,17895)"  (bindings applied),
            citation:  "§63(b)" | "fact" | null,
            value:     number | null   (the node's computed amount),
            exact:     "4491211r125"   (only when value is a fraction),
            children:  [Node, ...],
            facts:     ["agent_(e,alice)", ...]  (the node's leaf facts)}

        Node kinds:
          - statute node: a predicate declared with cites/3; citation is the
            subsection, children the proofs of its clause body;
          - helper node: a predicate declared with helper_node/2
            (interpretation of the case vocabulary); citation null;
          - fact leaf: a call to the case vocabulary (facts.pl); citation
            "fact";
          - negation node: goal "\\+ G", negation: true, citation of G when
            G is a statute node; it records that G was checked and failed;
          - aggregate node: sum_of/3, set_of/3, count_of/3; combine: "sum"
            for sums (value = sum of the children's values), "set" or
            "count" otherwise;
          - repeated node: a subproof already given earlier in the tree
            (same goal and citation) appears again without children, with
            "repeat": true.
        Built-ins and technical predicates (dates, lists, arithmetic) are
        run directly and leave no node.

    prove_json(+GoalText, -JSON)
        GoalText is a goal as text ("tax(alice,2017,A)"); JSON the proof
        (first solution) as a JSON string, or {"goal": ..., "proved":
        false} when the goal fails.
*/

:- use_module(library(http/json)).

:- dynamic memo_done/1, memo_node/3.

%   interpreted_as(+Head, -Body): a node whose own clause calls the
%   interpreter (holds/1) is proved through Body instead.
:- discontiguous interpreted_as/2.

%!  prove(:Goal, -Proof) is nondet.
%   Statute and helper nodes are memoized during one proof: the first call
%   of a goal (up to variable renaming) collects all its solutions and
%   their proofs, later calls reuse them (the statute predicates are pure).
prove(Goal, Proof) :-
    (   Goal = sara_entail(_, _, _) -> true ; retractall(assumption(_, _, _)) ),
    retractall(memo_done(_)),
    retractall(memo_node(_, _, _)),
    solve(Goal, Nodes),
    (   Nodes = [Proof0]
    ->  true
    ;   node(Goal, null, null, Nodes, Proof0)
    ),
    empty_assoc(Seen),
    compact_proof(Proof0, Proof, Seen, _).

%!  holds(:Goal) is semidet.
%   Goal is proved by the interpreter under the current assumptions (the
%   case's stated conclusions), without building the proof: where an
%   answer is computed outside prove/2 it is the answer prove/2 would give,
%   so a stated conclusion is honoured in one place, solve/2.
holds(Goal) :-
    retractall(memo_done(_)),
    retractall(memo_node(_, _, _)),
    once(solve(Goal, _)).

%!  compact_proof(+Node0, -Node, +Seen0, -Seen) a subproof that already
%   appeared earlier in the tree (same goal, same citation) is not
%   repeated (same value too): the later occurrence keeps its goal,
%   citation and value, has
%   no children, and is marked "repeat": true.
compact_proof(N0, N, Seen0, Seen) :-
    get_dict(children, N0, Cs0),
    (   Cs0 == []
    ->  N = N0, Seen = Seen0
    ;   get_dict(goal, N0, G), get_dict(citation, N0, C),
        get_dict(value, N0, V),
        Key = k(G, C, V),
        (   get_assoc(Key, Seen0, _)
        ->  del_dict(children, N0, _, N1),
            (   del_dict(combine, N1, _, N2) -> true ; N2 = N1 ),
            N = N2.put(_{children: [], facts: [], repeat: true}),
            Seen = Seen0
        ;   put_assoc(Key, Seen0, true, Seen1),
            foldl(compact_child, Cs0, Cs, Seen1, Seen),
            N = N0.put(children, Cs)
        )
    ).

compact_child(C0, C, S0, S) :- compact_proof(C0, C, S0, S).

%!  prove_json(+GoalText, -JSON:string) is det.
prove_json(GoalText, JSON) :-
    term_string(Goal, GoalText),
    (   prove(Goal, Proof)
    ->  with_output_to(string(JSON),
                       json_write_dict(current_output, Proof, [width(0)]))
    ;   goal_string(Goal, GS),
        with_output_to(string(JSON),
                       json_write_dict(current_output,
                                       _{goal: GS, proved: false}, [width(0)]))
    ).

/* The interpreter --------------------------------------------------------- */

%!  solve(+Goal, -Nodes) Nodes: proof nodes for Goal, in order.
solve(Var, _) :- var(Var), !, instantiation_error(Var).
solve(true, []) :- !.
solve((A, B), Nodes) :- !,
    solve(A, N1),
    solve(B, N2),
    append(N1, N2, Nodes).
solve((C -> T ; E), Nodes) :- !,
    (   solve(C, N1)
    ->  solve(T, N2), append(N1, N2, Nodes)
    ;   failed_condition_nodes(C, N0),
        solve(E, N2),
        append(N0, N2, Nodes)
    ).
solve((C *-> T ; E), Nodes) :- !,
    (   solve(C, N1)
    *-> solve(T, N2), append(N1, N2, Nodes)
    ;   solve(E, Nodes)
    ).
solve((A ; B), Nodes) :- !,
    (   solve(A, Nodes)
    ;   solve(B, Nodes)
    ).
solve((C -> T), Nodes) :- !,
    (   solve(C, N1)
    ->  solve(T, N2), append(N1, N2, Nodes)
    ).
solve(\+ G, [Node]) :- !,
    \+ solve(G, _),
    negation_node(G, Node).
solve(call(G), Nodes) :- !,
    solve(G, Nodes).
solve(once(G), Nodes) :- !,
    once(solve(G, Nodes)).
solve(ignore(G), Nodes) :- !,
    (   solve(G, Nodes) -> true ; Nodes = [] ).
solve(sum_of(Key-Value, G, Sum), [Node]) :- !,
    findall(Key-(Value-Ns), solve(G, Ns), Pairs0),
    sort(1, @<, Pairs0, Pairs),
    pairs_values(Pairs, VNs),
    findall(V, member(V-_, VNs), Vs),
    sum_exact(Vs, Sum),
    maplist(item_node, VNs, Items),
    goal_string(sum_of(Value, G), GS),
    value_fields(Sum, VF),
    Node = _{goal: GS, citation: null, children: Items, facts: [],
             combine: "sum"}.put(VF).
solve(set_of(T, G, Set), [Node]) :- !,
    findall(T-Ns, solve(G, Ns), Pairs0),
    sort(1, @<, Pairs0, Pairs),
    pairs_keys(Pairs, Set),
    findall(null-Ns, member(_-Ns, Pairs), NullNs),
    maplist(item_node, NullNs, Items),
    goal_string(set_of(T, G, Set), GS),
    Node = _{goal: GS, citation: null, children: Items, facts: [],
             value: null, combine: "set"}.
solve(count_of(T, G, N), [Node]) :- !,
    findall(T-Ns, solve(G, Ns), Pairs0),
    sort(1, @<, Pairs0, Pairs),
    length(Pairs, N),
    findall(null-Ns, member(_-Ns, Pairs), NullNs),
    maplist(item_node, NullNs, Items),
    goal_string(count_of(T, G, N), GS),
    Node = _{goal: GS, citation: null, children: Items, facts: [],
             value: N, combine: "count"}.
solve(G, [Node]) :-
    node_kind(G, Citation, VArg),
    assumed(G, VArg), !,
    assumption(G, Body, Check),
    call(Check),
    solve(Body, _),
    call(Check),
    node_value(G, VArg, Value),
    node(G, Citation, Value, [], Node0),
    Node = Node0.put(assumption, true).
solve(G, [Node]) :-
    node_kind(G, Citation, VArg), !,
    variant_sha1(G, Key),
    (   memo_done(Key)
    ->  true
    ;   forall(solve_clauses(G, Citation, VArg, N),
               assertz(memo_node(Key, G, N))),
        assertz(memo_done(Key))
    ),
    memo_node(Key, G, Node).
solve(G, [Node]) :-
    fact_goal(G), !,
    call(G),
    goal_string(G, GS),
    Node = _{goal: GS, citation: "fact", children: [], facts: [],
             value: null}.
solve(G, []) :-
    call(G).

%!  assumed(+G, +VArg) the case states a conclusion for G (its arguments
%   other than the value): G is then proved by the assumptions only.
assumed(G, VArg) :-
    copy_term(G, K),
    (   VArg > 0 -> setarg(VArg, K, _) ; true ),
    \+ \+ assumption(K, _, _).

%!  solve_clauses(+G, +Citation, +VArg, -Node) prove G by its clauses.
solve_clauses(G, Citation, VArg, Node) :-
    (   interpreted_as(G, Body0) -> Body = Body0 ; clause(G, Body) ),
    solve(Body, Children),
    node_value(G, VArg, Value),
    node(G, Citation, Value, Children, Node).

%!  node_kind(+Goal, -Citation, -ValueArg) Goal is a statute or helper node.
node_kind(G, Citation, VArg) :-
    callable(G),
    functor(G, Name, Arity),
    (   cites(Name/Arity, C, VArg)
    ->  atom_string(C, Citation)
    ;   helper_node(Name/Arity, VArg)
    ->  Citation = null
    ).

fact_goal(G) :-
    callable(G),
    functor(G, Name, Arity),
    case_fact_predicate(Name/Arity).

node_value(_, 0, null) :- !.
node_value(G, N, V) :- arg(N, G, V).

%!  node(+Goal, +Citation, +Value, +Children, -Node)
node(G, Citation, Value, Children, Node) :-
    goal_string(G, GS),
    findall(F, ( member(C, Children), get_dict(citation, C, "fact"),
                 get_dict(goal, C, F) ), Facts),
    value_fields(Value, VF),
    (   callable(G), functor(G, Name, Arity), combines(Name/Arity, How)
    ->  atom_string(How, HS), CF0 = VF.put(combine, HS)
    ;   CF0 = VF
    ),
    (   callable(G), functor(G, Name1, Arity1), value_unit(Name1/Arity1, U)
    ->  atom_string(U, US), CF = CF0.put(unit, US)
    ;   CF = CF0
    ),
    Node = _{goal: GS, citation: Citation, children: Children,
             facts: Facts}.put(CF).

%!  value_fields(+Value, -Dict) the value (and exact form) of a node.
value_fields(V, _{value: V}) :- integer(V), !.
value_fields(V, _{value: F, exact: S}) :-
    rational(V), !,
    F is float(V),
    format(string(S), "~w", [V]).
value_fields(V, _{value: V}) :- float(V), !.
value_fields(_, _{value: null}).

%!  item_node(+Value-Nodes, -Node) one solution of an aggregate.
item_node(V-[N], N) :-
    get_dict(value, N, NV),
    (   V == null
    ;   number(NV), number(V), NV =:= V
    ), !.
item_node(V-Ns, Node) :-
    value_fields(V, VF),
    Node = _{goal: "item", citation: null, children: Ns, facts: []}.put(VF).

%!  failed_condition_nodes(+C, -Nodes) when the condition of an
%   if-then-else fails, record it (as a negation node) if it is a statute
%   or helper goal, so that the proof shows which rule was found not to
%   apply before the else branch was taken.
failed_condition_nodes(sara_question(G), [Node]) :- !,
    negation_node(sara_question(G), Node0),
    failure_trace(G, 4, Why),
    Node = Node0.put(children, Why).
failed_condition_nodes(C, [Node]) :-
    callable(C), C \= (_,_), C \= (_;_), C \= (\+ _),
    node_kind(C, _, _), !,
    negation_node(C, Node).
failed_condition_nodes(_, []).

%!  failure_trace(+Goal, +Depth, -Nodes) why Goal fails: the conditions of
%   a conjunction that hold (their proofs), then the first that does not
%   (a negation node); for a statute or helper node, the same for each of
%   its clauses, Depth levels down.
failure_trace(call(G), D, Nodes) :- !, failure_trace(G, D, Nodes).
failure_trace(G, D, Nodes) :-
    conjuncts(G, Gs),
    trace_conjuncts(Gs, D, Nodes).

trace_conjuncts([], _, []).
trace_conjuncts([C|Cs], D, Nodes) :-
    (   catch(solve(C, N1), _, fail)
    ->  trace_conjuncts(Cs, D, N2),
        append(N1, N2, Nodes)
    ;   why_not(C, D, N),
        Nodes = [N]
    ).

why_not(C, D, Node) :-
    negation_node(C, Node0),
    (   D > 1, callable(C), C \= (_,_), node_kind(C, _, _)
    ->  D1 is D - 1,
        findall(W, ( clause(C, Body), failure_trace(Body, D1, W) ), Ws),
        append(Ws, Why),
        Node = Node0.put(children, Why)
    ;   Node = Node0
    ).

conjuncts((A, B), Gs) :- !, conjuncts(A, GA), conjuncts(B, GB), append(GA, GB, Gs).
conjuncts(true, []) :- !.
conjuncts(G, [G]).

negation_node(G, Node) :-
    (   callable(G), functor(G, Name, Arity), cites(Name/Arity, C, _)
    ->  atom_string(C, Citation)
    ;   Citation = null
    ),
    goal_string(\+ G, GS),
    Node = _{goal: GS, citation: Citation, children: [], facts: [],
             value: null, negation: true}.

%!  goal_string(+Goal, -String) Goal printed with bindings applied
%   (remaining variables as _; day numbers of the arguments declared with
%   date_arg/2 as "YYYY-MM-DD").
goal_string(G, S) :-
    render_dates(G, G0),
    copy_term(G0, G1),
    term_variables(G1, Vs),
    maplist(=('$VAR'('_')), Vs),
    format(string(S), "~W", [G1, [quoted(true), numbervars(true),
                                  portray(false), spacing(standard)]]).

%!  render_dates(+Goal, -Shown) day-number arguments shown as dates.
render_dates(\+ G, \+ G1) :- !, render_dates(G, G1).
render_dates(G, G1) :-
    callable(G), compound(G),
    functor(G, Name, Arity),
    findall(I, date_arg(Name/Arity, I), Is),
    Is \== [], !,
    G =.. [F|Args],
    render_args(Args, 1, Is, Args1),
    G1 =.. [F|Args1].
render_dates(G, G).

render_args([], _, _, []).
render_args([A|As], I, Is, [B|Bs]) :-
    (   memberchk(I, Is), integer(A)
    ->  day_text(A, B)
    ;   B = A
    ),
    I1 is I + 1,
    render_args(As, I1, Is, Bs).

day_text(D, T) :-
    (   neg_infinity_day(D) -> T = "-inf"
    ;   pos_infinity_day(D) -> T = "inf"
    ;   days_date(D, T)
    ).

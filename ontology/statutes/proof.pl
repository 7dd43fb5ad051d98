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
    ;   get_dict(branch, N0, true)
    ->  foldl(compact_child, Cs0, Cs, Seen0, Seen),
        N = N0.put(children, Cs)
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
%   apply before the else branch was taken.  The question of a binary case
%   that fails gets the whole trace of why (failure_trace/2).
failed_condition_nodes(sara_question(G), [Node]) :- !,
    negation_node(sara_question(G), Node0),
    failure_trace(G, Why),
    Node = Node0.put(children, Why).
failed_condition_nodes(C, [Node]) :-
    callable(C), C \= (_,_), C \= (_;_), C \= (\+ _),
    node_kind(C, _, _), !,
    negation_node(C, Node).
failed_condition_nodes(_, []).

/* Why a goal fails ---------------------------------------------------------

   failure_trace(+Goal, -Nodes): Goal fails; Nodes say why, to full depth:
   in a conjunction, the conditions that hold (their proofs), the first
   that fails, and every later condition that does not depend on it
   (checked as well: a reader sees every condition the statute needs that
   is not met); a statute or helper node fails because each of its rules
   fails (one "branch" node per rule when there are several, each with its
   own trace); an if-then-else by its condition and the branch taken; a
   negation because the negated goal holds (its proof); a comparison with
   its evaluated sides.  A condition with several solutions is traced for
   each (up to trace_solutions/1), since the goal fails for all of them.

   The trace is bounded by its size, not by a depth: at most
   trace_budget/1 goals are explained; past that a node says the trace
   stops there ("truncated": true).  The same happens below
   trace_nesting/1 nested provisions, far deeper than the statutes go (about
   20), so that no reader of the JSON (Python's recursion) chokes on it.  A goal explained earlier in the same
   trace, or one being explained further up (a recursive rule), is not
   explained again ("repeat": true). */

trace_budget(600).
trace_nesting(60).
trace_solutions(4).

:- dynamic trace_seen/1.

failure_trace(G, Nodes) :-
    trace_budget(B),
    nb_setval(failure_trace_budget, B),
    retractall(trace_seen(_)),
    why_fails(G, [], Nodes).

%!  why_fails(+G, +Ancestors, -Nodes) G fails; Nodes explain why.
why_fails(G, A, [Node]) :-
    (   \+ spend_budget
    ->  true
    ;   trace_nesting(Max), length(A, D), D >= Max
    ), !,
    truncated_node(G, Node).
why_fails(G, _, []) :- var(G), !.
why_fails(true, _, []) :- !.
why_fails(_:G, A, Ns) :- !, why_fails(G, A, Ns).
why_fails(call(G), A, Ns) :- !, why_fails(G, A, Ns).
why_fails(once(G), A, Ns) :- !, why_fails(G, A, Ns).
why_fails((C -> T ; E), A, Ns) :- !,
    (   once(holds_trace(C, NC))
    ->  why_fails(T, A, NT), append(NC, NT, Ns)
    ;   why_fails_apart(C, A, NC), why_fails(E, A, NE), append(NC, NE, Ns)
    ).
why_fails((C *-> T ; E), A, Ns) :- !,
    (   \+ holds_trace(C, _)
    ->  why_fails_apart(C, A, NC), why_fails(E, A, NE), append(NC, NE, Ns)
    ;   why_fails((C, T), A, Ns)
    ).
why_fails((C -> T), A, Ns) :- !,
    (   once(holds_trace(C, NC))
    ->  why_fails(T, A, NT), append(NC, NT, Ns)
    ;   why_fails(C, A, Ns)
    ).
why_fails((X ; Y), A, Ns) :- !,
    disjuncts((X ; Y), Ds),
    findall(B, ( member(D, Ds), why_fails(D, A, ND), branch_node(-, ND, B) ), Ns).
why_fails(G, _, []) :-
    type_check(G), !.
why_fails((X, Y), A, Ns) :- !,
    conjuncts((X, Y), Gs),
    why_conjunction(Gs, A, Ns).
why_fails(G, A, [Node]) :-
    why_not(G, A, Node).

%!  why_fails_apart(+G, +A, -Nodes) why_fails/3 without binding G: the
%   conditions that hold inside G bind its variables only for its own
%   trace (another alternative, or a later condition, sees them unbound).
why_fails_apart(G, A, Nodes) :-
    findall(Ns, once(why_fails(G, A, Ns)), [Nodes|_]).

disjuncts((X ; Y), Ds) :-
    X \= (_ -> _), X \= (_ *-> _), !,
    disjuncts(X, DX), disjuncts(Y, DY), append(DX, DY, Ds).
disjuncts(G, [G]).

%!  why_conjunction(+Conditions, +Ancestors, -Nodes)
why_conjunction([], _, []).
why_conjunction([C|Cs], A, Ns) :-
    trace_solutions(Max),
    term_variables(C, Open),
    findall(C-Cs-NC-Open, limit(Max, holds_trace(C, NC)), Sols),
    (   Sols == []
    ->  why_fails_apart(C, A, NF),
        term_variables(C, Blocked),
        independent_conditions(Cs, Blocked, A, NI),
        append(NF, NI, Ns)
    ;   Sols = [C-Cs-NC-_]
    ->  why_conjunction(Cs, A, NR),
        append(NC, NR, Ns)
    ;   findall(B, ( member(C1-Cs1-NC1-Open1, Sols),
                     why_conjunction(Cs1, A, NR1),
                     append(NC1, NR1, Children),
                     solution_branch(C1, Open1, Children, B) ), Ns)
    ).

%!  solution_branch(+C, +Values, +Children, -Node) one solution of a
%   condition: a statute or helper node is named; a technical one
%   (member/2, between/3, ...) is shown by the values it gave.
solution_branch(C, _, Children, Node) :-
    callable(C), node_kind(C, _, _), !,
    branch_node(C, Children, Node).
solution_branch(_, Values, Children, Node) :-
    (   Values = [V] -> true ; V = Values ),
    branch_node(V, Children, Node).

%!  independent_conditions(+Cs, +Blocked, +A, -Nodes) the conditions after
%   a failed one that do not share a variable with it (it left them
%   unbound): each provision, helper or fact among them is checked too, and
%   shown holding or failing.  One that depends on a failed condition cannot
%   be decided, and is not shown; nor is a technical goal (arithmetic, list
%   handling), which a failed condition before it may have guarded (a
%   recursion's end), and whose results count as undecided.
independent_conditions([], _, _, []).
independent_conditions([C|Cs], Blocked, A, Ns) :-
    term_variables(C, Vs),
    (   ( shares_variable(Vs, Blocked) ; \+ condition_goal(C) )
    ->  append(Blocked, Vs, Blocked1),
        independent_conditions(Cs, Blocked1, A, Ns)
    ;   once(holds_trace(C, NC))
    ->  independent_conditions(Cs, Blocked, A, NR),
        append(NC, NR, Ns)
    ;   why_fails_apart(C, A, NF),
        append(Blocked, Vs, Blocked1),
        independent_conditions(Cs, Blocked1, A, NR),
        append(NF, NR, Ns)
    ).

%!  condition_goal(+G) G is a condition of the statutes: a provision, a
%   helper, a fact of the case, or the negation of one.
condition_goal(\+ G) :- !, condition_goal(G).
condition_goal(G) :-
    callable(G),
    (   node_kind(G, _, _) -> true ; fact_goal(G) ).

shares_variable(Vs, Blocked) :-
    member(V, Vs), member(B, Blocked), V == B, !.

%!  holds_trace(+C, -Nodes) C holds (its proof nodes); an error while
%   checking a condition counts as not holding (the trace explains, it
%   does not decide).
holds_trace(C, Nodes) :-
    catch(solve(C, Nodes), _, fail).

%!  why_not(+G, +Ancestors, -Node) the negation node of a failed goal,
%   with the reason beneath it.
why_not(\+ G, _, Node) :- !,
    failed_node(\+ G, Node1),
    negation_node(G, Inner),
    Node0 = Node1.put(citation, Inner.citation),
    (   once(holds_trace(G, NG))
    ->  Node = Node0.put(children, NG)
    ;   Node = Node0
    ).
why_not(G, A, Node) :-
    callable(G), node_kind(G, _, VArg),
    \+ assumed(G, VArg), !,
    failed_node(G, Node0),
    variant_sha1(G, Key),
    (   ( memberchk(Key, A) ; trace_seen(Key) )
    ->  Node = Node0.put(repeat, true)
    ;   assertz(trace_seen(Key)),
        findall(G-Body, rule_of(G, Body), Rules),
        rules_trace(Rules, [Key|A], Why),
        Node = Node0.put(children, Why)
    ).
why_not(G, _, Node) :-
    failed_node(G, Node0),
    (   evaluated(G, Text)
    ->  Node = Node0.put(evaluated, Text)
    ;   Node = Node0
    ).

%!  failed_node(+G, -Node) a condition of the trace that does not hold:
%   a negation node marked "failed" (a negation node alone, in a trace as in
%   a proof, is a "not G" that holds).
failed_node(G, Node) :-
    negation_node(G, Node0),
    Node = Node0.put(failed, true).

%!  type_check(+G) a test of a term's type (plumbing of the formalization,
%   not a condition of the statute): not shown when it fails.
type_check(G) :-
    callable(G), functor(G, N, A),
    memberchk(N/A, [var/1, nonvar/1, atom/1, string/1, number/1, integer/1,
                    is_list/1, ground/1, callable/1, atomic/1, compound/1,
                    (==)/2, (\==)/2]).

rule_of(G, Body) :-
    (   interpreted_as(G, Body0) -> Body = Body0 ; clause(G, Body) ).

%!  rules_trace(+Rules, +A, -Nodes) each rule of a failed node fails: its
%   trace directly for a single rule, a branch node per rule otherwise.
rules_trace([], _, []).
rules_trace([_-Body], A, Ns) :- !,
    why_fails(Body, A, Ns).
rules_trace(Rules, A, Ns) :-
    findall(B, ( member(_-Body, Rules),
                 why_fails(Body, A, Why),
                 branch_node(-, Why, B) ), Ns).

%!  branch_node(+G, +Children, -Node) one alternative (a rule of a node,
%   a solution of a condition, a side of a disjunction) and its trace; G
%   names the solution of a condition, '-' (no name) a rule or a side.
branch_node(G, Children, Node) :-
    (   G == (-) -> GS = "" ; goal_string(G, GS) ),
    (   callable(G), functor(G, N, Ar), cites(N/Ar, C, _)
    ->  atom_string(C, Citation)
    ;   Citation = null
    ),
    Node = _{goal: GS, citation: Citation, children: Children, facts: [],
             value: null, branch: true, failed: true}.

truncated_node(G, Node) :-
    goal_string(G, GS),
    Node = _{goal: GS, citation: null, children: [], facts: [],
             value: null, truncated: true}.

spend_budget :-
    nb_getval(failure_trace_budget, B),
    B > 0,
    B1 is B - 1,
    nb_setval(failure_trace_budget, B1).

%!  evaluated(+Comparison, -Text) the two sides of a failed arithmetic
%   comparison, evaluated ("80 > 100").
evaluated(G, Text) :-
    compound(G), G =.. [Op, L, R],
    memberchk(Op, [<, >, =<, >=, =:=, =\=]),
    ground(L-R),
    catch(( LV is L, RV is R ), _, fail),
    format(string(Text), "~w ~w ~w", [LV, Op, RV]).

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

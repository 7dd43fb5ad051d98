/*  sara_clauses.pl -- entailment questions of the SARA binary cases.

    A binary case asks whether one clause of a statute applies; its test
    goal names the clause with the dataset's own predicate name and
    argument order (s151_a(alice,4000,2015): taxpayer, amount, year).  Some
    cases also state a statutory conclusion as a fact (s151_c(alice,_,2000,
    2015): "she gets one exemption under 151(c)").

    sara_clause(+DatasetGoal, -Node, -Check) is the one table that maps the
    dataset's clause names onto this formalization's nodes: Node is our
    goal, Check the argument adapter (amount rounding, a year found in the
    case, ...) run after Node.  A dataset clause the table does not know is
    an error, never a silent failure.

    sara_entail(+QuestionText, +AssumptionsText, -Answer)
        QuestionText: the case's test goal (without a leading \+, which is
        the dataset's way of writing the expected answer and is not read).
        AssumptionsText: the case's clauses whose head is a dataset clause,
        as text.  Each becomes an assumption of the proof (assumption/3):
        a node for which an assumption matches is proved by the assumption
        only, and the proof says so ("assumption": true).
        Answer: "Entailment" when the translated goal is proved,
        "Contradiction" otherwise.  Run through prove/2, the proof holds
        the goal's proof, or a negation node with the failed-proof trace.

    Goals and clause bodies are checked with library(sandbox) before they
    run (the dataset clauses themselves are replaced by true for the
    check: they are ours to run).
*/

:- use_module(library(sandbox)).
:- use_module(library(occurs)).             % occurrences_of_var/3

:- dynamic assumption/3.          % assumption(Node, DatasetBody, Check)

helper_node(sara_entail/3, 0).
helper_node(sara_question/1, 0).

%!  sara_entail(+QuestionText, +AssumptionsText, -Answer)
sara_entail(QText, AText, Answer) :-
    case_dates_valid(sara_entail/3),
    load_assumptions(AText),
    question_goal(QText, Goal),
    (   sara_question(Goal)
    ->  Answer = "Entailment"
    ;   Answer = "Contradiction"
    ).

%!  sara_question(+Goal) the question's goal, in our nodes, holds, the
%   case's stated conclusions taken as given (holds/1): the same answer
%   whether or not the proof is built.
sara_question(Goal) :- holds(Goal).
interpreted_as(sara_question(Goal), call(Goal)).

%!  question_goal(+Text, -Goal) the test goal translated onto our nodes.
question_goal(Text, Goal) :-
    read_case_term(Text, T0, _),
    strip_negation(T0, T1),
    check_case_goal(T1),
    translate_goal(T1, Goal),
    forall(unplaced_variable(T1, Goal, V, N), shared_unplaced(V, T1, N)).

%!  unplaced_variable(+Question, +Goal, -V, -Name) V is a variable argument of
%   the dataset clause Name that its translation (our node and its adapter)
%   does not take: a clause placed by kind has no position for it.
unplaced_variable(Q, G, V, N) :-
    sub_translation(Q, G, D, T),
    term_variables(D, DVs), term_variables(T, TVs),
    member(V, DVs), \+ ( member(W, TVs), W == V ),
    functor(D, N, _).

sub_translation((A, B), (TA, TB), D, T) :- !,
    ( sub_translation(A, TA, D, T) ; sub_translation(B, TB, D, T) ).
sub_translation((A ; B), (TA ; TB), D, T) :- !,
    ( sub_translation(A, TA, D, T) ; sub_translation(B, TB, D, T) ).
sub_translation((A -> B), (TA -> TB), D, T) :- !,
    ( sub_translation(A, TA, D, T) ; sub_translation(B, TB, D, T) ).
sub_translation(\+ A, \+ TA, D, T) :- !, sub_translation(A, TA, D, T).
sub_translation(D, T, D, T) :- dataset_clause(D).

%!  shared_unplaced(+V, +Question, +Name) an unplaced variable that a goal of
%   the question other than a statute clause tests ("s152_d_2_D(alice,bob,
%   Start,End), is_before(Start,Day)") is an error: the test would see an
%   unbound variable and the answer would be a guess (it was a wrong
%   Contradiction).  One that only other clauses take is harmless: placed
%   by kind, they find the amount themselves (§68(a)(1) its applicable
%   amount); so is one used nowhere else (an anonymous argument).
shared_unplaced(V, Q, Name) :-
    (   plain_goal(Q, G), occurrences_of_var(V, G, Count), Count > 0
    ->  throw(error(domain_error(placed_argument, Name),
                    context(sara_entail/3,
                            'a goal of the question tests an argument of this clause that our node does not take')))
    ;   true
    ).

%!  plain_goal(+Question, -G) G is a goal of the question that is no statute
%   clause (a date helper, a comparison, a type test).
plain_goal((A, B), G) :- !, ( plain_goal(A, G) ; plain_goal(B, G) ).
plain_goal((A ; B), G) :- !, ( plain_goal(A, G) ; plain_goal(B, G) ).
plain_goal((A -> B), G) :- !, ( plain_goal(A, G) ; plain_goal(B, G) ).
plain_goal(\+ A, G) :- !, plain_goal(A, G).
plain_goal(G, G) :- \+ dataset_clause(G).

strip_negation(\+ G, G) :- !.
strip_negation(G, G).

%!  load_assumptions(+Text) the case's statutory conclusions, as assumptions.
load_assumptions(Text) :-
    retractall(assumption(_, _, _)),
    flag(sara_skolem, _, 1),
    setup_call_cleanup(open_string(Text, S), read_assumptions(S), close(S)).

read_assumptions(S) :-
    read_term(S, T, [syntax_errors(error)]),
    (   T == end_of_file
    ->  true
    ;   add_assumption(T),
        read_assumptions(S)
    ).

add_assumption((H :- B)) :- !,
    check_case_goal(B),
    translate_goal(B, Body0),
    assumption_head(H, Node0, Check),
    placed_node(Node0, Node, Placement),
    conj(Placement, Body0, Body),
    assertz(assumption(Node, Body, Check)).
add_assumption(H) :-
    (   dataset_clause_node(H, Node0, Check), catch(Check, _, fail)
    ->  placed_node(Node0, Node, Placement),
        (   findall(Node, catch(Placement, _, fail), Nodes0), Nodes0 \== []
        ->  sort(Nodes0, Nodes)
        ;   Nodes = [Node]
        ),
        forall(member(N, Nodes),
               ( term_variables(N, Vs),
                 maplist(skolem, Vs),
                 assertz(assumption(N, true, true)) ))
    ;   assumption_head(H, _, _)
    ).

%!  placed_node(+Node0, -Node, -Placement) a conclusion the case states in a
%   clause the table does not name is placed by kind like a question
%   (generic_clause_node/3): the assumption is about our node itself, the
%   placement's goals (the year, the service between the people named, ...)
%   say which instances; without this the stated conclusion, a conjunction,
%   would match no node and be ignored.
placed_node((Placement, clause_placed_by_kind(Node)), Node, Placement) :- !.
placed_node(Node, Node, true).

conj(true, B, B) :- !.
conj(A, true, A) :- !.
conj(A, B, (A, B)).

%   An individual the case leaves anonymous ("one exemption under 151(c)")
%   is someone, but no one in particular: a constant of its own.
skolem(V) :- flag(sara_skolem, I, I + 1), format(atom(V), 'someone_~w', [I]).

assumption_head(H, Node, Check) :-
    (   dataset_clause_node(H, Node, Check)
    ->  true
    ;   \+ dataset_clause(H)
    ->  Node = H, Check = true
    ;   functor(H, N, A),
        throw(error(existence_error(sara_clause, N/A),
                    context(sara_clause/3, 'a statutory conclusion no node of ours maps')))
    ).

read_case_term(Text, T, Vs) :-
    term_string(T, Text, [variable_names(Vs), syntax_errors(error)]).

%!  translate_goal(+DatasetGoal, -Goal) control constructs kept, dataset
%   clauses mapped through sara_clause/3, other goals (date helpers,
%   arithmetic, type checks) kept as they are.
translate_goal(G, _) :- var(G), !, instantiation_error(G).
translate_goal((A, B), (TA, TB)) :- !, translate_goal(A, TA), translate_goal(B, TB).
translate_goal((A ; B), (TA ; TB)) :- !, translate_goal(A, TA), translate_goal(B, TB).
translate_goal((A -> B), (TA -> TB)) :- !, translate_goal(A, TA), translate_goal(B, TB).
translate_goal(\+ A, \+ TA) :- !, translate_goal(A, TA).
translate_goal(G, (Node, Check)) :-
    dataset_clause(G), !,
    (   question_clause_node(G, Node, Check)
    ->  true
    ;   functor(G, N, A),
        throw(error(existence_error(sara_clause, N/A),
                    context(sara_clause/3, 'a clause no node of ours maps')))
    ).
translate_goal(G, G).

%!  dataset_clause(+G) G names a statute clause: s<digits>...
dataset_clause(G) :-
    callable(G), functor(G, N, _),
    atom_codes(N, [0's, D|_]), code_type(D, digit), !.
dataset_clause(G) :-
    callable(G), functor(G, gross_income, 3).

%!  check_case_goal(+G) library(sandbox) accepts G once the dataset
%   clauses in it are replaced by true (they are the statutes, run by us).
check_case_goal(G) :-
    neutral_goal(G, N),
    catch(safe_goal(user:N), E,
          ( message_to_codes(E, Msg),
            throw(error(permission_error(run, case_goal, Msg), _)) )).

message_to_codes(E, Msg) :-
    catch(message_to_codes_(E, Msg), _, format(string(Msg), "~q", [E])).
message_to_codes_(E, Msg) :-
    '$messages':translate_message(E, Lines, []),
    with_output_to(string(Msg), print_message_lines(current_output, '', Lines)).

neutral_goal(G, G) :- var(G), !.
neutral_goal((A, B), (NA, NB)) :- !, neutral_goal(A, NA), neutral_goal(B, NB).
neutral_goal((A ; B), (NA ; NB)) :- !, neutral_goal(A, NA), neutral_goal(B, NB).
neutral_goal((A -> B), (NA -> NB)) :- !, neutral_goal(A, NA), neutral_goal(B, NB).
neutral_goal(\+ A, \+ NA) :- !, neutral_goal(A, NA).
neutral_goal(G, true) :- dataset_clause(G), !.
neutral_goal(G, true) :- callable(G), functor(G, N, A), memberchk(N/A,
    [first_day_year/2, last_day_year/2, is_before/2]), !.
neutral_goal(G, G).

/* Clauses the table does not name ------------------------------------------

   The table holds the clauses the training cases ask about; a new case may
   ask about another subsection.  Its name is the subsection's path
   (s152_d_2_E is §152(d)(2)(E)); when one of our nodes has that name, the
   question's arguments are placed by what they are, not by a guessed order:

     - our node's argument roles come from its own clause heads (variable
       names: Y a year, Place a household, S in §3306 a service, the others
       individuals, events
       or places), its value argument (cites/3: an amount) and its date
       arguments (date_arg/2);
     - a service position takes a service the question names, or else the
       services between the people it names in its place (employer, then
       employee: "Alice employing Bob"), as many of them as the positions
       after it leave;
     - a payment or service position takes the first payment or service
       the question names, wherever it writes it;
     - a payment position (head variable Pay) takes a payment, or the
       payments into or through a plan the question names instead; a plan
       position (Plan) takes only a plan, and is otherwise left to our node;
     - a marriage the question names stands for its two spouses where our
       node takes them, or, when the question names the spouses as well, is
       checked to be theirs (marriage_atoms/4); an individual beyond our
       node's places who is a party to an event the question also names
       is checked to be so and takes no place (surplus_parties/4);
     - a node that takes no individual at all (§63(c)(7), §151(d)(1)) answers
       whoever the question names; an argument our clause head fixes (a
       constant: s68_b_1_A(T, Y, 300000)) is left to the head;
     - a day our node takes, when the question gives a year and no date
       and our node no year, is the close of that year (year_as_of_date/3);
     - the question's atoms (individuals, events) fill our individual
       positions in the order written; its last integer between 1900 and
       2100 that is a year of the case (else the last such) is the year; of its other numbers the last is compared in whole
       dollars with our value, when our node has one, and the others fill
       the positions left after the individuals (a taxable income); a number
       with no place is an error, never dropped; "YYYY-MM-DD" strings fill
       the date positions in order;
     - a year our node needs and the question leaves open is a year of the
       case (year_of/1), as in the table's rows.

   More atoms than our node has places for, or no node of that name, is the
   error it always was.  The proof says that the clause was placed this way
   (clause_placed_by_kind/1 around the node).  sara_generic_only (a global
   variable) makes the question skip the table: how this placement does on
   the training questions, as if each were new, is measured with it. */

:- dynamic node_roles_/2, node_roles_read/0.

helper_node(clause_placed_by_kind/1, 0).
%!  clause_placed_by_kind(+Node) Node, a clause the question names but the
%   table does not, with the question's arguments placed by kind.
clause_placed_by_kind(Node) :- call(Node).

question_clause_node(G, Node, Check) :-
    (   \+ nb_current(sara_generic_only, true), sara_clause(G, Node0, Check)
    ->  open_years(Node0, Node)
    ;   generic_clause_node(G, Node, Check)
    ).

%!  open_years(+Node0, -Node) a year our node takes and the question
%   leaves open ("Section 2(b)(1) applies to Alice") is a year of the case
%   (year_of/1, any year when the case dates nothing), as the placement by
%   kind does; before, the node raised an instantiation error.
open_years(Node0, Node) :-
    node_conjuncts(Node0, Goals),
    findall(K-I, ( nth1(K, Goals, G), callable(G), functor(G, N, A),
                   node_roles(N/A, Roles), nth1(I, Roles, year),
                   arg(I, G, Y), var(Y),
                   \+ ( member(year_of(Y1), Goals), Y1 == Y ) ), Places),   % findall copies: places, not variables
    foldl(open_year(Goals), Places, [], Ys),
    foldl(year_first, Ys, Node0, Node).

open_year(Goals, K-I, Ys0, Ys) :-
    nth1(K, Goals, G), arg(I, G, Y),
    ( member(Y0, Ys0), Y0 == Y -> Ys = Ys0 ; Ys = [Y|Ys0] ).

year_first(Y, G, (year_of(Y), G)).

node_conjuncts((A, B), Gs) :- !,
    node_conjuncts(A, GA), node_conjuncts(B, GB), append(GA, GB, Gs).
node_conjuncts(G, [G]).

dataset_clause_node(G, Node, Check) :-
    (   sara_clause(G, Node, Check)
    ->  true
    ;   generic_clause_node(G, Node, Check)
    ).

%!  generic_clause_node(+G, -Node, -Check)
generic_clause_node(G, (YearGoal, clause_placed_by_kind(status_span(Node, S, E))), true) :-
    G =.. [Name|DArgs],
    span_arguments(DArgs, Front, S, E),
    G1 =.. [Name|Front],
    generic_clause_node_(G1, (YearGoal, clause_placed_by_kind(Node)), true),
    functor(Node, NN, NA), relationship(NN/NA),
    status_as_of_day(Node, _, _), !.
generic_clause_node(G, Node, Check) :-
    generic_clause_node_(G, Node, Check).

generic_clause_node_(G, (YearGoal, clause_placed_by_kind(Node)), Check) :-
    G =.. [Name|DArgs],
    findall(A, node_value_arg(Name/A, _), As0), sort(As0, As),
    member(Arity, As),
    node_roles(Name/Arity, Roles),
    node_value_arg(Name/Arity, VArg),
    arg_kinds(DArgs, Entities0000, Years, Amounts0, Dates),
    partition(place_atom, Entities0000, Places, Entities000),
    (   memberchk(school, Roles)
    ->  partition(school_entity, Entities000, Schools, Entities00)
    ;   Schools = [], Entities00 = Entities000
    ),
    include(individual_role, Roles, Slots),
    length(Slots, NSlots),
    (   NSlots =:= 0
    ->  Entities001 = []        % a node about no one (§63(c)(7), §151(d)(1)): whoever the
    ;   Entities001 = Entities00   % question names, the answer is the same
    ),
    marriage_atoms(Entities001, NSlots, Entities01, MarriageGoals0),
    surplus_parties(Entities01, NSlots, Entities02, PartyGoals0),
    surplus_spouse(Entities02, Roles, Entities0, SpouseGoals),
    append(PartyGoals0, SpouseGoals, PartyGoals),
    append(MarriageGoals0, PartyGoals, MarriageGoals),
    value_amount(VArg, Amounts0, Amounts, Numbers),
    append(Entities0, Numbers, Entities),
    (   memberchk(place, Roles) -> Places1 = Places ; Places1 = [] ),
    length(Args, Arity),
    place(Roles, Args, Entities-(Places1+Schools), Dates, Y, ServiceGoals),
    one_day_period(Roles, Args),
    (   \+ memberchk(year, Roles) -> YearGoal0 = true
    ;   Years = [Y] -> YearGoal0 = true
    ;   YearGoal0 = year_of(Y)
    ),
    year_as_of_date(Roles, Args, Years),
    append(MarriageGoals, ServiceGoals, Goals),
    foldl(and_goal, Goals, YearGoal0, YearGoal),
    Node =.. [Name|Args],
    (   Amounts == []
    ->  Check = true
    ;   VArg > 0, Amounts = [Amount]
    ->  arg(VArg, Node, O), Check = dollars(O, Amount)
    ), !.

/* A relationship over time ---------------------------------------------

   The dataset writes a relationship (§152(c)(2), (d)(2)(A)-(G), declared
   relationship/1: made by kinship and marriage facts, not by an age, which
   changes on no fact's day) with the days it starts and ends, not a year:
   s152_d_2_D(alice, bob, Start, End),
   then tests them (is_before(Start, Day), var(End)).  Our node is the
   status as of the close of a year (year_last_day(Y, L), then the
   relationship on day L), which the statute's text defines from the case's
   kinship and marriage facts.  The span is read off the same definition:
   the facts change only on the days events start or the day after they
   end, so the status is evaluated on those days, and each run of days on
   which it holds is a span, from its first day ("YYYY-MM-DD") to its last
   (End unbound while it still holds).  A span that holds before every
   dated fact has no first day, and a question testing it raises; a node
   that is no status at a day is placed as before (and refused). */

helper_node(status_span/3, 0).

%!  span_arguments(+DArgs, -Front, -Start, -End) the question's last two
%   arguments are unbound or dates: a start and an end.
span_arguments(DArgs, Front, S, E) :-
    append(Front, [S, E], DArgs),
    Front \== [],
    span_end(S), span_end(E),
    S \== E.

span_end(X) :- var(X), !.
span_end(X) :- date_text(X).

%!  status_span(+Node, ?Start, ?End) Node, a status as of the close of its
%   year, holds on every day from Start to End (dates; End unbound while
%   it holds on the last day a fact changes, Start while it holds before
%   the first).
status_span(Node, S, E) :-
    change_days(Days),
    ( Days = [First|_] -> Before is First - 1 ; Before = 0 ),
    findall(D-H, ( member(D, [Before|Days]),
                   ( status_on_day(Node, D) -> H = true ; H = false ) ), Marks),
    status_run(Marks, From, To),
    ( From == open -> true ; days_date(From, S0), same_date(S, S0) ),
    ( To == open -> var(E) ; days_date(To, E0), same_date(E, E0) ).

%   A date the question gives is compared by day; an unbound one is bound.
same_date(Q, D) :- var(Q), !, Q = D.
same_date(Q, D) :- date_days(Q, N), date_days(D, N).

%!  status_run(+Marks, -From, -To) a maximal run of days (Day-true) in
%   Marks: From is its first day (open when it holds before the first
%   dated fact), To its last (open when it holds on the last mark).
status_run(Marks, From, To) :-
    append(Pre, [D0-true|Rest], Marks),
    \+ last(Pre, _-true),
    ( Pre == [] -> From = open ; From = D0 ),
    (   append(Run, [D1-false|_], Rest), \+ memberchk(_-false, Run)
    ->  To is D1 - 1
    ;   To = open
    ).

%!  change_days(-Days) the days on which a case fact may change: the start
%   of an event, the day after its end; sorted.
change_days(Days) :-
    findall(D, ( start_(_, T), date_day(T, D)
               ; end_(_, T), date_day(T, D0), D is D0 + 1 ), Ds),
    sort(Ds, Days).

%!  status_on_day(+Node, +Day) Node holds on Day (status_as_of_day/3).
status_on_day(Node, Day) :-
    status_as_of_day(Node, Day, Goal),
    call(Goal).

%!  status_as_of_day(+Node, ?Day, -Goal) every clause of Node's predicate
%   is a status as of the close of the year (year_last_day(Y, L), then a
%   body without Y), or passes the year to another such node (§152(c)(2) to
%   its (A) and (B)); Goal is Node's status on Day.  Fails otherwise.
status_as_of_day(Node, Day, Goal) :-
    functor(Node, Name, Arity), functor(H, Name, Arity),
    predicate_property(H, number_of_clauses(N)), N > 0,
    findall(H-B, clause(H, B), Clauses),
    maplist(day_clause(Day), Clauses, Goals0),
    maplist(head_goal(Node), Goals0, Gs),
    disjunction(Gs, Goal).

head_goal(Node, H-G, (Node = H1, G1)) :- copy_term(H-G, H1-G1).

day_clause(Day, H-(year_last_day(Y, L), Rest), H-(L = Day, Rest)) :-
    var(Y), year_position(H, Y), occurrences_of_var(Y, Rest, 0), !.
day_clause(Day, H-B, H-G) :-       % passes its arguments on to one node
    callable(B), B \= (_, _), B \= (_ ; _),
    functor(B, BN, BA), cites(BN/BA, _, _),
    term_variables(H, HVs), term_variables(B, BVs), HVs == BVs,
    status_as_of_day(B, Day, G).

year_position(H, Y) :- arg(_, H, A), A == Y, !.

disjunction([G], G) :- !.
disjunction([G|Gs], (G ; D)) :- disjunction(Gs, D).

%!  node_value_arg(?Name/Arity, ?VArg) a statute or helper node and its
%   value argument (0: none).
node_value_arg(NA, VArg) :- cites(NA, _, VArg).
node_value_arg(NA, VArg) :- helper_node(NA, VArg), NA \= sara_entail/3,
    NA \= sara_question/1, NA \= clause_placed_by_kind/1.

%!  value_amount(+VArg, +Amounts, -ForValue, -Others) the last amount the
%   question gives is compared with our node's value, when it has one; the
%   others are numbers our node takes as arguments (a taxable income), placed
%   after the individuals.
value_amount(VArg, Amounts, [A], Others) :-
    VArg > 0, append(Others, [A], Amounts), !.
value_amount(_, Amounts, [], Amounts).

%!  arg_kinds(+Args, -Entities, -Years, -Amounts, -Dates) the question's
%   bound arguments by kind (the year: the last integer from 1900 to 2100
%   that is a year of the case, else the last such integer).
arg_kinds(Args0, Entities, Years, Amounts, Dates) :-
    maplist(listed_amount, Args0, Args),
    include(entity_arg, Args, Entities),
    include(date_text, Args, Dates),
    include(number, Args, Numbers),
    (   append(Before, [Y|After], Numbers), year_like(Y), case_year_like(Y),
        \+ ( member(Z, After), year_like(Z), case_year_like(Z) )
    ->  Years = [Y], append(Before, After, Amounts)
    ;   append(Before, [Y|After], Numbers), year_like(Y), \+ ( member(Z, After), year_like(Z) )
    ->  Years = [Y], append(Before, After, Amounts)
    ;   Years = [], Amounts = Numbers
    ).

%   A list of amounts the dataset gives for one value ([1200]) is their sum.
listed_amount(L, S) :- is_list(L), L \== [], maplist(number, L), !, sum_list(L, S).
listed_amount(A, A).

%   A number that could be a year or an amount ($2,000 is both) is the year
%   when the case's dates mention that year and not the other candidate's.
case_year_like(Y) :- once(case_year(Y)).

year_like(Y) :- integer(Y), Y >= 1900, Y =< 2100.

%   An atom, or a text the case names a party by ("johns hopkins university").
entity_arg(A) :- atom(A), !.
entity_arg(A) :- string(A), \+ date_text(A), once(party(_, A)).

date_text(D) :- string(D), catch(date_days(D, _), _, fail).

%!  place(+Roles, ?Args, +Entities-Places, +Dates, -Y, -Goals) fill our
%   arguments: the individuals in order, the households the question names
%   into our place positions (those left over are dropped: our node finds the
%   household itself), dates as day numbers, the year into Y.  A
%   service position (§3306) takes a service the question names; a question
%   that names the people instead ("Alice employing Bob": the employer, then
%   the employee, as the dataset writes them) gets the services between
%   them, through Goals (service_for/3), rather than a person in the place
%   of a service.
place([], [], []-(_+[]), _, _, []).
place([R|Rs], [A|As], Es-(Ps+Ss), Ds, Y, Gs) :-
    (   R == year
    ->  A = Y, place(Rs, As, Es-(Ps+Ss), Ds, Y, Gs)
    ;   R == place, Ps = [P|Ps1]
    ->  A = P, place(Rs, As, Es-(Ps1+Ss), Ds, Y, Gs)
    ;   R == school, Ss = [Sc|Ss1]
    ->  A = Sc, place(Rs, As, Es-(Ps+Ss1), Ds, Y, Gs)
    ;   R == school
    ->  place(Rs, As, Es-(Ps+Ss), Ds, Y, Gs)
    ;   R == payment, first_of_type(payment_, Es, E, Es1)
    ->  A = E, place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs)
    ;   R == payment, Es = [E|Es1], atom(E), plan_(E)
    ->  Gs = [payment_plan(A, E)|Gs1],
        place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs1)
    ;   R == plan, Es = [E|Es1], atom(E), plan_(E)
    ->  A = E, place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs)
    ;   R == plan
    ->  place(Rs, As, Es-(Ps+Ss), Ds, Y, Gs)
    ;   R == service, first_of_type(service_event, Es, E, Es1)
    ->  A = E, place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs)
    ;   R == service
    ->  include(individual_role, Rs, Later),
        length(Later, K), length(Es, N), Take is max(0, min(2, N - K)),
        length(People, Take), append(People, Es1, Es),
        (   People = [Er, Ee] -> G = service_for(A, Er, Ee)
        ;   People = [Er] -> G = service_for(A, Er, _)
        ;   G = service_for(A, _, _)
        ),
        Gs = [G|Gs1],
        place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs1)
    ;   R == payment, Es = [E|Es1]
    ->  A = E, place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs)
    ;   R == entity, Es = [E|Es1]
    ->  \+ payment_or_service(E),
        A = E, place(Rs, As, Es1-(Ps+Ss), Ds, Y, Gs)
    ;   R == date, Ds = [D|Ds1]
    ->  date_days(D, A), place(Rs, As, Es-(Ps+Ss), Ds1, Y, Gs)
    ;   place(Rs, As, Es-(Ps+Ss), Ds, Y, Gs)
    ).

and_goal(G, Acc, (G, Acc)).

%!  first_of_type(+Type, +Es, -E, -Rest) E is the first of Es that is an
%   event of Type (a payment, a service): it goes to the position of its
%   kind wherever the question writes it.
first_of_type(Type, Es, E, Rest) :-
    append(Before, [E|After], Es), atom(E), call(Type, E), !,
    append(Before, After, Rest).

individual_role(R) :- memberchk(R, [entity, service, payment, plan]).

%!  payment_or_service(+E) E is a payment or a service of the case: it fills
%   a position of its kind, never an individual's (a question about one
%   payment, placed into an employer's position, was answered about nobody).
payment_or_service(E) :- atom(E), ( payment_(E) ; service_event(E) ), !.

%!  school_entity(+E) E is a school, college or university of the case (a
%   school position, head variable School, takes only one).
school_entity(E) :- entity_is(E, educational_institution), !.

date_pair(R-_) :- R == date.

%!  one_day_period(+Roles, ?Args) our node takes a period (two or more
%   dates) and the question gives one day: the period is that day.
one_day_period(Roles, Args) :-
    pairs_keys_values(Pairs, Roles, Args),
    include(date_pair, Pairs, DatePairs),
    pairs_values(DatePairs, Ds),
    (   Ds = [_, _|_], include(nonvar, Ds, [D])
    ->  maplist(=(D), Ds)
    ;   true
    ).

close_of_year_date(L, R, A) :- ( R == date, var(A) -> A = L ; true ).

%!  year_as_of_date(+Roles, ?Args, +Years) our node takes a day and no year,
%   and the question gives a year and no date ("legally separated ... for
%   the year 2018"): the day is the close of that year, the time as of which
%   a status for the year is determined (§7703(a)(1)).
year_as_of_date(Roles, Args, Years) :-
    (   Years = [Y], \+ memberchk(year, Roles)
    ->  year_last_day(Y, L),
        maplist(close_of_year_date(L), Roles, Args)
    ;   true
    ).

%!  place_atom(+A) A is a place where someone resides (a household), which
%   fills a place position of our node (a clause-head variable Place...),
%   never an individual's; a place the question names where our node takes
%   none is left to our node, which finds the household itself.
place_atom(A) :- residence_at(_, A), !.

%!  surplus_parties(+Entities0, +NSlots, -Entities, -Goals) the question
%   names more individuals than our node has places, and one of them (the
%   last such) is a party to an event it also names ("the payment Alice
%   made to Bob": s3306_b_7(payment, service, alice, bob)): that individual
%   only says whose event it is.  It is checked to be a party of the event
%   and takes no place; repeated while the surplus lasts.  An individual
%   that ties to no named event stays, and the clause is refused as before.
surplus_parties(Es0, NSlots, Es, Goals) :-
    length(Es0, N),
    (   N > NSlots,
        reverse(Es0, Rev),
        member(X, Rev), \+ party(X, _),
        member(Ev, Es0), Ev \== X, party(Ev, X)
    ->  once(( append(Before, [X|After], Es0), \+ memberchk(X, After) )),
        append(Before, After, Es1),
        Goals = [party(Ev, X)|Goals1],
        surplus_parties(Es1, NSlots, Es, Goals1)
    ;   Es = Es0, Goals = []
    ).

%!  surplus_spouse(+Entities0, +Roles, -Entities, -Goals) the question
%   names two individuals where our node has a place for one individual
%   (and none for a service, which takes the two people), and the facts
%   make exactly one of them an employee (the agent of a service): he takes
%   the place, and the other, whom a provision about an employee can only
%   name as his spouse (§3306(c)(10)(A)(ii): "the spouse of such a student",
%   s3306_c_10_A_ii(alice, bob, School, Day) with Alice the student), is
%   checked to have been married to him.  Whichever order the question
%   writes them in; otherwise unchanged (and refused as before).
surplus_spouse(Es0, Roles, Es, Goals) :-
    (   include(individual_role, Roles, [entity]), Es0 = [A, B],
        maplist(individual_atom, [A, B]),
        include(employee_atom, [A, B], [Emp]),
        ( Emp == A -> Other = B ; Other = A )
    ->  Es = [Emp], Goals = [ever_spouses(Emp, Other)]
    ;   Es = Es0, Goals = []
    ).

individual_atom(X) :- atom(X), \+ party(X, _), \+ place_atom(X).
employee_atom(X) :- once(service_for(_, _, X)).

%!  named_employee(+P1, +P2, -Emp, -Other) of the two people a question
%   names, the one the facts make an employee (surplus_spouse/4); when both
%   or neither are, the dataset's order (the student, then the employee).
named_employee(P1, P2, Emp, Other) :-
    (   include(employee_atom, [P1, P2], [Emp])
    ->  ( Emp == P1 -> Other = P2 ; Other = P1 )
    ;   Emp = P2, Other = P1
    ).

helper_node(ever_spouses/2, 0).
%!  ever_spouses(+P, +S) P and S were married to each other at some time.
ever_spouses(P, S) :- once(marriage_between(_, P, S)).

%!  marriage_atoms(+Entities0, +NSlots, -Entities, -Goals) a marriage the
%   question names (the dataset writes "alice_and_bob" where our node takes
%   the spouses) stands for its two spouses when our node has places left
%   for them; when the question also names the spouses, and so gives more
%   individuals than our node has places, the marriage only ties them: it is
%   checked to be theirs and takes no place.  Otherwise unchanged.
marriage_atoms(Es0, NSlots, Es, Goals) :-
    length(Es0, N),
    (   N < NSlots,
        append(Before, [M|After], Es0), marriage_(M),
        \+ ( member(M2, After), marriage_(M2) )
    ->  append(Before, [P, S|After], Es),
        Goals = [marriage_between(M, P, S)]
    ;   N > NSlots,
        append(Before, [M|After], Es0), marriage_(M)
    ->  append(Before, After, Es),
        (   Es = [A, B|_], \+ marriage_(A), \+ marriage_(B)
        ->  Goals = [marriage_between(M, A, B)]
        ;   Es = [A|_]
        ->  Goals = [party(M, A)]
        ;   Goals = []
        )
    ;   Es = Es0, Goals = []
    ).

%!  node_roles(+Name/Arity, -Roles) per argument: year, entity, amount or
%   date, from the node's clause heads in the statute files.
node_roles(NA, Roles) :-
    read_node_heads,
    node_roles_(NA, Names),
    NA = Name/Arity,
    node_value_arg(Name/Arity, VArg),
    numlist_roles(Names, 1, Name/Arity, VArg, Roles).

numlist_roles([], _, _, _, []).
numlist_roles([V|Vs], I, NA, VArg, [R|Rs]) :-
    (   I =:= VArg -> R = amount
    ;   date_arg(NA, I) -> R = date
    ;   V == '$const' -> R = const      % the clause head decides it
    ;   sub_atom(V, 0, 1, _, 'Y') -> R = year
    ;   sub_atom(V, 0, _, _, 'Place') -> R = place
    ;   V == 'S', NA = Name/_, sub_atom(Name, 0, _, _, s3306_) -> R = service
    ;   V == 'Pay' -> R = payment
    ;   V == 'Plan' -> R = plan
    ;   V == 'School' -> R = school
    ;   R = entity
    ),
    I1 is I + 1,
    numlist_roles(Vs, I1, NA, VArg, Rs).

read_node_heads :- node_roles_read, !.
read_node_heads :-
    module_property(statutes, file(Main)),
    file_directory_name(Main, Dir),
    directory_files(Dir, Files),
    forall(( member(F, Files), file_name_extension(Base, pl, F),
             ( sub_atom(Base, 0, 1, _, s), atom_codes(Base, [_, C|_]),
               code_type(C, digit) ; Base == events ) ),
           ( directory_file_path(Dir, F, Path), read_heads(Path) )),
    assertz(node_roles_read).

read_heads(Path) :-
    setup_call_cleanup(open(Path, read, S), read_heads_(S), close(S)).

read_heads_(S) :-
    read_term(S, T, [variable_names(Vs), syntax_errors(quiet)]),
    (   T == end_of_file
    ->  true
    ;   ( T = (H :- _) -> true ; H = T ),
        (   callable(H), functor(H, N, A), node_value_arg(N/A, _),
            \+ node_roles_(N/A, _),
            H =.. [_|Args], maplist(var_name(Vs), Args, Names)
        ->  assertz(node_roles_(N/A, Names))
        ;   true
        ),
        read_heads_(S)
    ).

var_name(Vs, V, Name) :- var(V), member(Name=V1, Vs), V1 == V, !.
var_name(_, V, '$const') :- atomic(V).     % s68_b_1_A(T, Y, 300000), s3306_a(E, Y, other)

/* Argument adapters ------------------------------------------------------ */

%!  dollars(?Ours, ?Dataset) an amount of ours (possibly a fraction) and
%   the dataset's whole dollars; either may be unbound.
dollars(O, D) :- var(O), !, O = D.
dollars(O, D) :- var(D), !, D is round(O).
dollars(O, D) :- number(D), D =:= round(D), !, round(O) =:= D.
% An amount the question states with cents ($2,767.50) is compared to the cent.
dollars(O, D) :- number(D), round(O * 100) =:= round(D * 100).

%!  case_year(-Y) a year the case's dates mention, latest first, for
%   questions asked without a year ("Alice bears a relationship to Bob").
case_year(Y) :-
    findall(Y0, ( ( start_(_, D) ; end_(_, D) ), date_year(D, Y0) ), Ys0),
    sort(0, @>=, Ys0, Ys),
    member(Y, Ys).

date_year(D, Y) :-
    string(D), sub_string(D, 0, 4, _, S), number_string(Y, S).

%!  year_of(?Y) Y is bound (the question names it) or a year of the case.
%   A question leaving the year open asks whether the clause holds in some
%   year, as the dataset's test goals do (a Prolog goal with a variable):
%   the years of the case's dates (latest first), then one year of each
%   period the statutes' year windows mark (statute_period_years/1) that
%   the case's dates do not name.  A case none of whose facts is dated
%   states them alike for every year (an undated state holds from the
%   indefinite past on), so only the statutes tell its years apart; and a
%   dated fact about someone else does not make the windows' years
%   irrelevant.  Before, an undated case was read in 1970 alone and a
%   dated one in its own years alone, so "Section 68(f) applies to Alice"
%   or "§151(d)(5) makes her exemption amount $0", true from 2018 to 2025,
%   was a Contradiction.
year_of(Y) :- nonvar(Y), !.
year_of(Y) :-
    findall(Y0, case_year(Y0), Ys1),
    sort(Ys1, Ys2), reverse(Ys2, Ys0),          % each year once, latest first
    statute_period_years(Ps),
    (   member(Y, Ys0)
    ;   member(Y, Ps), \+ memberchk(Y, Ys0)
    ).

%!  statute_period_years(-Ys) one year per period in which every node reads
%   alike: the year of day 0 (the day status_span/3 reads an undated case
%   on, before every window), and the first year of each window and the
%   year after it, latest first as case_year/1 gives the case's years.
statute_period_years(Ys) :-
    days_year(0, Y0),
    findall(Y, ( Y = Y0
               ; year_window(_, First, Last), ( Y = First ; Y is Last + 1 ) ), Ys0),
    sort(0, @>=, Ys0, Ys).

%!  date_day(+Date, -Day) "YYYY-MM-DD" as our day number.
date_day(D, Day) :- string(D), date_days(D, Day).

/* The table: dataset clause -> our node, adapter ----------------------------
   One row per dataset name/arity (a guard in the row's body chooses between
   two readings of the same name/arity).  Argument names say what each of the
   dataset's arguments is (read off the cases' wording). */

% §1: schedules (taxable income, tax in whole dollars) and subsections.
sara_clause(s1_a(T, Y, _, Tax), s1_a(T, Y, O), dollars(O, Tax)).
sara_clause(s1_c(T, Y, _, Tax), s1_c(T, Y, O), dollars(O, Tax)).
sara_clause(s1_a_i(TI, Tax), s1_a_i(TI, O), dollars(O, Tax)).
sara_clause(s1_a_ii(TI, Tax), s1_a_ii(TI, O), dollars(O, Tax)).
sara_clause(s1_a_iii(TI, Tax), s1_a_iii(TI, O), dollars(O, Tax)).
sara_clause(s1_a_iv(TI, Tax), s1_a_iv(TI, O), dollars(O, Tax)).
sara_clause(s1_a_v(TI, Tax), s1_a_v(TI, O), dollars(O, Tax)).
sara_clause(s1_b_i(TI, Tax), s1_b_i(TI, O), dollars(O, Tax)).
sara_clause(s1_b_ii(TI, Tax), s1_b_ii(TI, O), dollars(O, Tax)).
sara_clause(s1_b_iii(TI, Tax), s1_b_iii(TI, O), dollars(O, Tax)).
sara_clause(s1_b_iv(TI, Tax), s1_b_iv(TI, O), dollars(O, Tax)).
sara_clause(s1_b_v(TI, Tax), s1_b_v(TI, O), dollars(O, Tax)).
sara_clause(s1_c_i(TI, Tax), s1_c_i(TI, O), dollars(O, Tax)).
sara_clause(s1_c_ii(TI, Tax), s1_c_ii(TI, O), dollars(O, Tax)).
sara_clause(s1_c_iii(TI, Tax), s1_c_iii(TI, O), dollars(O, Tax)).
sara_clause(s1_c_iv(TI, Tax), s1_c_iv(TI, O), dollars(O, Tax)).
sara_clause(s1_c_v(TI, Tax), s1_c_v(TI, O), dollars(O, Tax)).
sara_clause(s1_d_i(TI, Tax), s1_d_i(TI, O), dollars(O, Tax)).
sara_clause(s1_d_ii(TI, Tax), s1_d_ii(TI, O), dollars(O, Tax)).
sara_clause(s1_d_iii(TI, Tax), s1_d_iii(TI, O), dollars(O, Tax)).
sara_clause(s1_d_iv(TI, Tax), s1_d_iv(TI, O), dollars(O, Tax)).
sara_clause(s1_d_v(TI, Tax), s1_d_v(TI, O), dollars(O, Tax)).

% §2: (taxpayer, ..., year); s2_a/5 and s2_b/4 as given conclusions.
sara_clause(s2_a(T, _, _, _, Y), s2_a(T, Y), true).
sara_clause(s2_b(T, _, _, Y), s2_b(T, Y), true).
sara_clause(s2_a_1_A(T, S, _, Y), s2_a_1_A(T, S, Y), true).
sara_clause(s2_a_1_B(T, Place, D, Y), s2_a_1_B(T, Y, Place, D), true).
sara_clause(s2_a_2_B(T, S, _Y), s2_a_2_B(T, S), true).
sara_clause(s2_b_1(T, _, Q, Y), s2_b_1(T, Y, Q), true).
sara_clause(s2_b_1_A(T, _, Q, Y), s2_b_1_A(T, Y, Q), true).
sara_clause(s2_b_1_A_i(T, Q, Y), s2_b_1_A_i(T, Q, Y), true).
sara_clause(s2_b_1_A_ii(T, Q, Y), s2_b_1_A_ii(T, Q, Y), true).
sara_clause(s2_b_1_B(T, _, Q, Y), s2_b_1_B(T, Y, Q), true).
sara_clause(s2_b_2_A(Marriage, Y), s2_b_2_A(T, S, Y), marriage_of(Marriage, T, S)).
sara_clause(s2_b_2_C(T, _Marriage, S, Y), s2_b_2_C(T, S, Y), true).

% §63: (taxpayer, year, amount) except where the dataset orders otherwise.
sara_clause(s63(T, Y, TI), s63(T, Y, O), dollars(O, TI)).
sara_clause(s63_a(T, Y, TI), s63_a(T, Y, O), dollars(O, TI)).
sara_clause(s63_b(T, Y, TI), s63_b(T, Y, O), dollars(O, TI)).
sara_clause(s63_c(T, Y, SD), s63_c(T, Y, O), dollars(O, SD)).
sara_clause(s63_c_1(T, Y, SD), s63_c_1(T, Y, O), dollars(O, SD)).
sara_clause(s63_c_2(T, Y, B), s63_c_2(T, Y, O), dollars(O, B)).
sara_clause(s63_c_2_A_ii(T, Y), s63_c_2_A_ii(T, Y), true).
sara_clause(s63_c_2_B(T, Y, B), s63_c_2_B(T, Y, O), dollars(O, B)).
sara_clause(s63_c_2_C(Y, B), s63_c_2_C(Y, O), dollars(O, B)).
sara_clause(s63_c_3(T, A, Y), s63_c_3(T, Y, O), dollars(O, A)).
sara_clause(s63_c_3(T, _, A, Y), s63_c_3(T, Y, O), dollars(O, A)).
sara_clause(s63_c_6_A(T, _, _, Y), s63_c_6_A(T, Y), true).
sara_clause(s63_c_6_B(T, Y), s63_c_6_B(T, Y), true).
sara_clause(s63_c_6_D(T, Y), s63_c_6_D(T, Y), true).
sara_clause(s63_d(T, _, A, Y), s63_d(T, Y, O), dollars(O, A)).
sara_clause(s63_d_2(T, _, Amounts, Y), s63_d_2(T, Y, O), amounts_total(Amounts, O)).
sara_clause(s63_f_2_B(T, Y), s63_f_2_B(T, Y, _), true).
sara_clause(s63_f_3(T, Y, A), s63_f_3(T, Y, O), dollars(O, A)).

% §68.
sara_clause(s68_a_1(GI, Applicable, A), s68_a_1__amount(GI, Applicable, O), dollars(O, A)).
sara_clause(s68_a_2(Itemized, A), s68_a_2(Itemized, O), dollars(O, A)).
sara_clause(s68_b(T, A, Y), s68_b(T, Y, O), dollars(O, A)).
sara_clause(s68_b_1_D(T, A, Y), s68_b_1_D(T, Y, O), dollars(O, A)).
sara_clause(s68_f(Y), s68_f(Y), true).
sara_clause(gross_income(T, Y, GI), gross_income(T, Y, O), dollars(O, GI)).

% §151: (taxpayer, [individual,] [amount,] year).
sara_clause(s151(T, A, _, _, Y), s151_a(T, Y, O), dollars(O, A)).
sara_clause(s151_a(T, A, Y), s151_a(T, Y, O), dollars(O, A)).
% "an exemption for X under 151(b)": for the taxpayer himself, or for his
% spouse (the additional exemption) when X is someone else.
sara_clause(s151_b(T, A, Y), s151_b__taxpayer(T, T, Y), true) :- number(A).
sara_clause(s151_b(T, X, Y), Node, true) :- \+ number(X), exemption_151_b(T, X, Y, Node).
sara_clause(s151_b(T, X, _, Y), Node, true) :- exemption_151_b(T, X, Y, Node).
sara_clause(s151_b_applies(T, Y), s151_b__taxpayer(T, T, Y), true).
sara_clause(s151_b_applies(T, X, Y), Node, true) :- exemption_151_b(T, X, Y, Node).
sara_clause(s151_c(T, X, _, Y), s151_c(T, X, Y), true).
sara_clause(s151_c_applies(T, X, Y), s151_c(T, X, Y), true).
sara_clause(s151_d(T, X, _, Y), s151_c(T, X, Y), true) :- nonvar(X).
sara_clause(s151_d(T, X, _, Y), s151_b(T, T, Y), true) :- var(X).
sara_clause(s151_d_2(_, X, _, A, Y), s151_d_2(X, Y, O), dollars(O, A)).
sara_clause(s151_d_3_B(Pct, T, _, Y, _), s151_d_3_B(T, Y, O), dollars(O, Pct)).
sara_clause(s151_d_5(A, Y), s151_d_5(Y, O), dollars(O, A)).

% §152: (individual, taxpayer, ..., year).
sara_clause(s152_b_2(X, _, _, Y), s152_b_2(X, Y), true).
sara_clause(s152_c(X, T, Y), s152_c(X, T, Y), true).
sara_clause(s152_c_1(X, T, Y), s152_c_1(X, T, Y), true).
sara_clause(s152_c_1_B(X, _, T, _, _, Y), s152_c_1_B(X, T, Y), true).
sara_clause(s152_c_1_E(X, _, Y), s152_c_1_E(X, Y), true).
sara_clause(s152_c_2(X, T, Start, End), (year_span(Y, Start, End), s152_c_2(X, T, Y)), true).
sara_clause(s152_c_2_A(X, T, _, _, _), (year_of(Y), s152_c_2_A(X, T, Y)), true).
sara_clause(s152_c_3(X, T, Y), s152_c_3(X, T, Y), true).
sara_clause(s152_d_1_B(X, Y), s152_d_1_B(X, Y), true).
sara_clause(s152_d_2_A(X, T, S, E), (year_of(Y), s152_d_2_A(X, T, Y)), status_span(s152_d_2_A(X, T, _), S, E)).
sara_clause(s152_d_2_B(X, T, S, E), (year_of(Y), s152_d_2_B(X, T, Y)), status_span(s152_d_2_B(X, T, _), S, E)).
sara_clause(s152_d_2_D(X, T, S, E), (year_of(Y), s152_d_2_D(X, T, Y)), status_span(s152_d_2_D(X, T, _), S, E)).
sara_clause(s152_d_2_F(X, T, _, _, _), (year_of(Y), s152_d_2_F(X, T, Y)), true).
sara_clause(s152_d_2_H(X, T, Y, _, _, _), s152_d_2_H(X, T, Y), true).

% §3306: employers (employer, year), services (service), payments.
% s3306_b/11 states that an amount paid by an employer to an employee for a
% service is wages: remuneration for employment not excluded by (b)(2)-(15),
% paid on the payment's day (the end of the service when the payment is not
% described).
sara_clause(s3306_b(A, Pay, S, E, Emp, _, _, _, _, _, _),
            s3306_b__remuneration(Pay, S, E, Emp, Y, Day, O),
            ( dollars(O, A), wage_day(Pay, S, Day), days_year(Day, Y) )).
sara_clause(s3306_a_1(E, Y, _), s3306_a_1(E, Y), true).
sara_clause(s3306_a_1_A(E, Y, _), s3306_a_1_A(E, Y), true).
sara_clause(s3306_a_1_B(E, Y), s3306_a_1_B(E, Y), true).
sara_clause(s3306_a_2_B(E, Y), s3306_a_2_B(E, Y), true).
sara_clause(s3306_a_3(E, Y, _), s3306_a_3(E, Y), true).
sara_clause(s3306_b_2_A(X), (plan_payment(X, Pay, Plan), s3306_b_2_A(Pay, Plan)), true).
sara_clause(s3306_b_2_C(X), (plan_payment(X, Pay, Plan), s3306_b_2_C(Pay, Plan)), true).
sara_clause(s3306_b_7(Pay, S, E, _Emp), s3306_b_7(Pay, S, E), true).
sara_clause(s3306_b_10_A(Pay, S, Emp, _E, _, _), s3306_b_10_A(Pay, S, Emp), true).
sara_clause(s3306_b_10_B(_E, Pay, S), s3306_b_10_B(Pay, S), true).
% s3306_c/6: service S of Emp for E is employment on Day.  The case does
% not say what kind of service it is: neither agricultural labor nor
% domestic service, then ("other" for §3306(a)).
sara_clause(s3306_c(S, E, Emp, _, Day, _), s3306_c__employment(E, Z, other, Emp, S, D, D),
            employment_day(Day, D, Z)).
sara_clause(s3306_c_A(S, E, Emp, _), s3306_c_A(S), service_for(S, E, Emp)).
sara_clause(s3306_c_B(S, E, Emp, _), s3306_c_B(S), service_for(S, E, Emp)).
sara_clause(s3306_c_1(S, E, Emp, Y), s3306_c_1(S, Y), service_for(S, E, Emp)).
sara_clause(s3306_c_1_A_i(E, Y), s3306_c_1_A_i(E, Y), true).
sara_clause(s3306_c_2(S, E, Y), s3306_c_2(S, Y), service_for(S, E, _)).
sara_clause(s3306_c_6(S), s3306_c_6(S), true).
sara_clause(s3306_c_10_A(S, _School, _Emp, _Day), s3306_c_10_A(S), true).
sara_clause(s3306_c_10_A_i(Emp, School, Day),
            (school_day(School, Sch, Day, D), s3306_c_10_A_i(Emp, Sch, D, D)), true).
% The student and the employee in either order: the facts say who is employed
% (named_employee/4), and the student named must be his spouse.
sara_clause(s3306_c_10_A_ii(P1, P2, School, Day),
            (school_day(School, Sch, Day, D), named_employee(P1, P2, Emp, Student),
             ever_spouses(Emp, Student), s3306_c_10_A_ii(Emp, Sch, D, D)), true).
sara_clause(s3306_c_16(S, _, _), s3306_c_16(S), true).
sara_clause(s3306_c_21(S, _, _, _), s3306_c_21(S), true).

% §7703.
sara_clause(s7703(P, S, _, _, _, _, _, _, Y), s7703(P, S, Y), true).
sara_clause(s7703_a_2(P, S, _, _, Y), (year_end_day(Y, D), s7703_a_2(P, S, D)), true).
sara_clause(s7703_b_2(P, Place, _, Y), s7703_b_2(P, Place, Y), true).
sara_clause(s7703_b_3(P, S, Place, Y), s7703_b_3(P, S, Place, Y), true).

/* Adapter helpers ---------------------------------------------------------- */

exemption_151_b(T, X, Y, s151_b__taxpayer(T, X, Y)) :- T == X, !.
exemption_151_b(T, X, Y, s151_b__spouse(T, X, Y)).

%!  employment_day(?Date, ?Day, ?Year) a date string as our day number
%   and its year, once the date is known (either way round).
employment_day(Date, Day, Y) :- string(Date), !, date_days(Date, Day), days_year(Day, Y).
employment_day(Date, Day, Y) :- integer(Day), !, days_date(Day, Date), days_year(Day, Y).
employment_day(_, _, _).

%!  wage_day(?Pay, +S, -Day) the day a stated wage was paid.
wage_day(Pay, _, Day) :- atom(Pay), event_date(Pay, D), !, date_days(D, Day).
wage_day(_, S, Day) :- ( end_(S, D) ; start_(S, D) ), !, date_days(D, Day).

%!  amounts_total(+List, ?Total) the dataset lists amounts; ours sums them.
amounts_total(L, O) :- is_list(L), sum_list(L, S), dollars(O, S).

%!  marriage_of(+Marriage, -T, -S) the spouses of a marriage_ event, as
%   the statutes read them (agents or patient: "Alice married Bob" states
%   Bob as the patient; before, only two agents were spouses here).
marriage_of(M, T, S) :- marriage_between(M, T, S).

%!  year_span(?Y, ?Start, ?End) Y within [Start, End] (date strings), or
%   a year of the case when the dataset leaves the span open.
year_span(Y, S, E) :-
    (   nonvar(Y) -> true ; year_of(Y) ),
    (   string(S) -> date_year(S, YS), Y >= YS ; true ),
    (   string(E) -> date_year(E, YE), Y =< YE ; true ).


%!  school_day(+Name, -School, +Date, -Day) the institution the dataset
%   names by its lower-case name, and the date as our day number.
school_day(Name, School, Date, Day) :-
    date_day(Date, Day),
    (   educational_institution_(School), text_lower(School, L), text_lower(Name, L)
    ->  true
    ;   School = Name
    ).

%!  plan_payment(+X, -Pay, -Plan) the dataset names the payment or the plan.
plan_payment(X, X, Plan) :- payment_(X), !, payment_plan(X, Plan).
plan_payment(X, Pay, X) :- payment_plan(Pay, X).

year_end_day(Y, D) :- nonvar(Y), !, year_last_day(Y, D).
year_end_day(Y, D) :- case_year(Y), year_last_day(Y, D).

/*  core.pl -- node declarations, aggregation and text helpers.

    Node declarations
    -----------------
    cites(Name/Arity, Citation, ValueArg)
        Name/Arity is the predicate of one statutory node; Citation the
        subsection it formalizes ('§63(c)(2)(A)'); ValueArg the argument
        position holding the node's computed amount (0: none).
    helper_node(Name/Arity, ValueArg)
        An interpretive predicate (how the case vocabulary maps onto a
        statutory term: gross income, household, marriage in effect, ...).
        It appears in proofs with citation null.

    combines(Name/Arity, How)
        How the node's value follows from the values of its children that
        have one: sum, difference (first minus the others), same (equal
        to the only one), last (equal to the last one), round (the only
        one rounded to the nearest integer, halves up).  Proofs carry it
        as the node's "combine" field so that a reader can check it.

    value_unit(Name/Arity, Unit)
        The node's value is not an amount of dollars (percent, weeks).

    year_window(Name/Arity, First, Last)
        The node applies to taxable years First to Last only (§63(c)(7),
        §68(f), §151(d)(5)); the other nodes read the same in every year.
        A question asked without a year of a case that dates nothing is
        answered over one year of each period these windows mark
        (statute_period_years/1 in sara_clauses.pl).

    date_arg(Name/Arity, I)
        Argument I of the predicate is a day number (days since
        1970-01-01); proofs print it as a "YYYY-MM-DD" date.

    Every other predicate is technical (dates, lists, arithmetic): the
    proof meta-interpreter runs it without making a node.

    Aggregation
    -----------
    Statute clauses aggregate only through sum_of/3, set_of/3 and count_of/3,
    which the meta-interpreter understands (each solution becomes a child
    of an aggregate node), so sums stay checkable in proofs.
*/

:- discontiguous cites/3, helper_node/2, combines/2, date_arg/2, value_unit/2, relationship/1,
                 year_window/3.
:- multifile cites/3, helper_node/2, combines/2, date_arg/2, value_unit/2, relationship/1.

%!  in_year_window(+Node, +Y) technical: Y is within Node's year_window/3.
in_year_window(Node, Y) :-
    year_window(Node, First, Last),
    Y >= First, Y =< Last.

%   value_unit(Name/Arity, Unit): the node's value is not dollars but
%   percent or weeks (proofs carry it as "unit").

%!  sum_of(+Key-Value, :Goal, -Sum) is det.
%   Sum of Value over the solutions of Goal, counting each distinct Key
%   once (first solution wins).  Sum is 0 when Goal has no solution.
sum_of(Key-Value, Goal, Sum) :-
    findall(Key-Value, Goal, Pairs0),
    sort(1, @<, Pairs0, Pairs),
    pairs_values(Pairs, Values),
    sum_exact(Values, Sum).

%!  set_of(+Template, :Goal, -Set) is det.
%   Sorted set of the Template instances over Goal's solutions ([] if none).
set_of(Template, Goal, Set) :-
    findall(Template, Goal, L),
    sort(L, Set).

%!  count_of(+Template, :Goal, -N) is det.
%   Number of distinct Template instances over Goal's solutions.
count_of(Template, Goal, N) :-
    set_of(Template, Goal, Set),
    length(Set, N).

%!  sum_exact(+Numbers, -Sum) exact sum (integers and rationals).
sum_exact(L, S) :- sum_exact_(L, 0, S).

sum_exact_([], S, S).
sum_exact_([X|Xs], S0, S) :- S1 is S0 + X, sum_exact_(Xs, S1, S).

%!  percent(+P, +X, -Y) Y = P% of X, exact.
percent(P, X, Y) :- Y is P rdiv 100 * X.

%!  text_lower(+AtomOrString, -String) lower-case string.
text_lower(X, S) :-
    (   string(X) -> S0 = X
    ;   atom(X) -> atom_string(X, S0)
    ;   term_string(X, S0)
    ),
    string_lower(S0, S).

%!  text_contains(+Text, +Sub) Text (atom/string) contains Sub (lower case).
text_contains(Text, Sub) :-
    text_lower(Text, S),
    sub_string(S, _, _, _, Sub), !.

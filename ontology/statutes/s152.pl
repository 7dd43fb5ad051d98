/*  s152.pl -- §152. Dependent defined.

    Argument order: (Individual, Taxpayer, Year[, ...]).

    s152_a(X, T, Y)      X is a dependent of T for Y: (a)(1) qualifying
                         child or (a)(2) qualifying relative, subject to the
                         exceptions of (b).
    s152_b_1(T, Y)       T is a dependent of another taxpayer, so T is
                         treated as having no dependents.
    s152_b_2(X, Y)       X made a joint return with X's spouse for Y.
    s152_c(X, T, Y)      qualifying child; (c)(1)(A)-(E), (c)(2), (c)(3).
    s152_d(X, T, Y)      qualifying relative; (d)(1)(A)-(D), (d)(2)(A)-(H).
*/

cites(s152_a/3, '§152(a)', 0).
cites(s152_a_1/3, '§152(a)(1)', 0).
cites(s152_a_2/3, '§152(a)(2)', 0).
cites(s152_b/2, '§152(b)', 0).
cites(s152_b_1/2, '§152(b)(1)', 0).
cites(s152_a__basic/3, '§152(a)', 0).
cites(s152_b_2/2, '§152(b)(2)', 0).
cites(s152_b_2/3, '§152(b)(2)', 0).
cites(s152_c/3, '§152(c)', 0).
cites(s152_c_1/3, '§152(c)(1)', 0).
cites(s152_c_1_A/3, '§152(c)(1)(A)', 0).
cites(s152_c_1_B/3, '§152(c)(1)(B)', 0).
cites(s152_c_1_C/3, '§152(c)(1)(C)', 0).
cites(s152_c_1_E/2, '§152(c)(1)(E)', 0).
cites(s152_c_2/3, '§152(c)(2)', 0).
cites(s152_c_2_A/3, '§152(c)(2)(A)', 0).
cites(s152_c_2_B/3, '§152(c)(2)(B)', 0).
cites(s152_c_3/3, '§152(c)(3)', 0).
cites(s152_d/3, '§152(d)', 0).
cites(s152_d_1/3, '§152(d)(1)', 0).
cites(s152_d_1_A/4, '§152(d)(1)(A)', 0).
cites(s152_d_1_B/2, '§152(d)(1)(B)', 0).
cites(s152_d_1_D/3, '§152(d)(1)(D)', 0).
cites(s152_d_2/4, '§152(d)(2)', 0).
cites(s152_d_2_A/3, '§152(d)(2)(A)', 0).
cites(s152_d_2_B/3, '§152(d)(2)(B)', 0).
cites(s152_d_2_C/3, '§152(d)(2)(C)', 0).
cites(s152_d_2_D/3, '§152(d)(2)(D)', 0).
cites(s152_d_2_E/3, '§152(d)(2)(E)', 0).
cites(s152_d_2_F/3, '§152(d)(2)(F)', 0).
cites(s152_d_2_G/3, '§152(d)(2)(G)', 0).
cites(s152_d_2_H/3, '§152(d)(2)(H)', 0).

%   The relationships of (c)(2) and (d)(2)(A)-(G), which (c)(1)(A) and
%   (d)(1)(A) call "a relationship to the taxpayer": kinship and marriage
%   facts make them, so they hold over spans of days (status_span/3).
relationship(s152_c_2/3).
relationship(s152_c_2_A/3).
relationship(s152_c_2_B/3).
relationship(s152_d_2_A/3).
relationship(s152_d_2_B/3).
relationship(s152_d_2_C/3).
relationship(s152_d_2_D/3).
relationship(s152_d_2_E/3).
relationship(s152_d_2_F/3).
relationship(s152_d_2_G/3).

/* (a) In general ------------------------------------------------------- */

%!  s152_a(?X, +T, +Y) X is a dependent of T for the taxable year Y.
s152_a(X, T, Y) :-
    s152_a__basic(X, T, Y),
    \+ s152_b_1(T, Y).

%!  s152_a__basic(?X, ?T, +Y) X is a dependent of T under (a), with the
%   exception of (b)(2), before (b)(1) is applied to T.  (b)(1) is applied
%   one level deep: whether T is himself a dependent of someone is decided
%   by this predicate, which avoids an endless regress.
s152_a__basic(X, T, Y) :-
    dependent_candidate(X, T, Y),
    (   s152_a_1(X, T, Y)
    ->  true
    ;   s152_a_2(X, T, Y)
    ),
    \+ s152_b_2(X, Y).

s152_a_1(X, T, Y) :- s152_c(X, T, Y).
s152_a_2(X, T, Y) :- s152_d(X, T, Y).

%!  dependent_candidate(?X, ?T, +Y) technical: the individuals standing in
%   some relationship of (c)(2) or (d)(2) to each other (so that dependents
%   of a taxpayer, and taxpayers of an individual, can be enumerated).
dependent_candidate(X, T, Y) :-
    year_last_day(Y, L),
    findall(X-T, candidate_pair(X, T, Y, L), Pairs0),
    sort(Pairs0, Pairs),
    member(X-T, Pairs),
    X \== T.

candidate_pair(X, T, _, L) :- descendant_of(X, T, L).
candidate_pair(X, T, _, L) :- descendant_of(T, X, L).
candidate_pair(X, T, _, L) :- sibling_of(X, T, L).
candidate_pair(X, T, _, L) :- stepsibling_of(X, T, L).
candidate_pair(X, T, _, L) :- stepparent_of(X, T, L).
candidate_pair(X, T, _, L) :-
    ( sibling_of(S, T, L) ; stepsibling_of(S, T, L) ),
    descendant_of(X, S, L).
candidate_pair(X, T, _, L) :-
    ( sibling_of(S, X, L) ; stepsibling_of(S, X, L) ),
    descendant_of(T, S, L).
candidate_pair(X, T, _, L) :- parent_of(P, T, L), sibling_of(X, P, L).
candidate_pair(X, T, _, L) :- parent_of(P, X, L), sibling_of(T, P, L).
candidate_pair(X, T, _, L) :- in_law_of(X, T, L).
candidate_pair(X, T, Y, _) :-
    (   nonvar(T)
    ->  abode(T, Place, _, _), abode(X, Place, _, _)
    ;   abode(X, Place, _, _), abode(T, Place, _, _)
    ),
    X \== T,
    shared_abode_days(X, T, Place, Y, D), D > 0.

/* (b) Exceptions -------------------------------------------------------- */

%!  s152_b_1(+T, +Y) T is a dependent of another taxpayer for Y, and is
%   therefore treated as having no dependents.
%
%   A claim by a qualifying child of T does not count: that child, being
%   T's dependent, "shall be treated as having no dependents" under this
%   very paragraph.  So a newborn (or any qualifying child) whose parent
%   has no income does not take the parent away from the parent's own
%   claim on the child, although §152(d) read alone makes the parent the
%   child's qualifying relative ((d)(2)(C) "the father or mother", (d)(1)
%   "with respect to any taxpayer").
s152_b_1(T, Y) :-
    s152_a__basic(T, Other, Y),
    Other \== T,
    \+ s152_c(Other, T, Y).

%!  s152_b(+X, +Y) an exception of §152(b) reaches X for Y: X is a
%   dependent, so treated as having no dependents ((b)(1)), or X made a
%   joint return with X's spouse, so is no one's dependent ((b)(2)).
s152_b(X, Y) :-
    (   s152_b_1(X, Y)
    ->  true
    ;   s152_b_2(X, Y)
    ).

%!  s152_b_2(+X, +Y) X made a joint return with X's spouse for Y: X is not
%   a dependent of anyone.
s152_b_2(X, Y) :-
    s152_b_2(X, _, Y).

%!  s152_b_2(+X, ?S, +Y) the same, the spouse named: X "has made a joint
%   return with the individual's spouse" S for Y.
s152_b_2(X, S, Y) :-
    joint_return_filed(X, S, Y).

/* (c) Qualifying child -------------------------------------------------- */

s152_c(X, T, Y) :- s152_c_1(X, T, Y).

s152_c_1(X, T, Y) :-
    s152_c_1_A(X, T, Y),
    s152_c_1_B(X, T, Y),
    s152_c_1_C(X, T, Y),
    s152_c_1_E(X, Y).

%!  s152_c_1_A(?X, ?T, +Y) X bears a relationship to T described in (c)(2).
s152_c_1_A(X, T, Y) :- s152_c_2(X, T, Y).

%!  s152_c_1_B(+X, +T, +Y) same principal place of abode as T for more than
%   one-half of Y.
s152_c_1_B(X, T, Y) :-
    shared_abode_days(X, T, _, Y, Days),
    more_than_half_year(Days, Y).

%!  s152_c_1_C(+X, +T, +Y) X meets the age requirements of (c)(3).
s152_c_1_C(X, T, Y) :- s152_c_3(X, T, Y).

%!  s152_c_1_E(+X, +Y) X has not filed a joint return with X's spouse for
%   the year, "other than only for a claim of refund" (before, a return
%   filed only to claim a refund took the child out too: own cases
%   `kofi_joint_return_for_refund_*`, `widower_son_joint_return_only_*`).
s152_c_1_E(X, Y) :-
    \+ ( joint_return_filed(J, X, _, Y), \+ refund_claim_only(J) ).

%!  s152_c_2(?X, ?T, +Y) relationship for a qualifying child.
s152_c_2(X, T, Y) :- s152_c_2_A(X, T, Y).
s152_c_2(X, T, Y) :- s152_c_2_B(X, T, Y).

%!  s152_c_2_A(?X, ?T, +Y) X is a child of T or a descendant of such a child.
s152_c_2_A(X, T, Y) :-
    year_last_day(Y, L),
    descendant_of(X, T, L).

%!  s152_c_2_B(?X, ?T, +Y) X is a brother, sister, stepbrother or stepsister
%   of T, or a descendant of any such relative.
s152_c_2_B(X, T, Y) :-
    year_last_day(Y, L),
    (   sibling_of(X, T, L)
    ;   stepsibling_of(X, T, L)
    ;   ( sibling_of(S, T, L) ; stepsibling_of(S, T, L) ),
        descendant_of(X, S, L)
    ).

%!  s152_c_3(+X, +T, +Y) X is younger than T and less than 25 years old at
%   the end of Y.  X's birth day must be known (see born_on/2); T's too,
%   unless X is T's descendant (see younger_than/2).
s152_c_3(X, T, Y) :-
    younger_than(X, T),
    year_last_day(Y, L),
    born_on(X, _),
    \+ attained_age_by(X, 25, L).

/* (d) Qualifying relative ----------------------------------------------- */

s152_d(X, T, Y) :- s152_d_1(X, T, Y).

s152_d_1(X, T, Y) :-
    s152_d_1_A(X, T, Y, _Para),
    s152_d_1_B(X, Y),
    s152_d_1_D(X, T, Y).

%!  s152_d_1_A(?X, ?T, +Y, -Para) X bears a relationship described in
%   (d)(2), under subparagraph Para of (d)(2).
s152_d_1_A(X, T, Y, Para) :- s152_d_2(X, T, Y, Para).

%!  s152_d_1_B(+X, +Y) X has no income for the calendar year.
s152_d_1_B(X, Y) :-
    gross_income(X, Y, GI),
    GI =:= 0.

%!  s152_d_1_D(+X, +T, +Y) X is not a qualifying child of T or of any other
%   taxpayer for the year.
s152_d_1_D(X, _T, Y) :-
    \+ ( dependent_candidate(X, T2, Y),
         s152_c(X, T2, Y) ).

%!  s152_d_2(?X, ?T, +Y, -Para)
s152_d_2(X, T, Y, 'A') :- s152_d_2_A(X, T, Y).
s152_d_2(X, T, Y, 'B') :- s152_d_2_B(X, T, Y).
s152_d_2(X, T, Y, 'C') :- s152_d_2_C(X, T, Y).
s152_d_2(X, T, Y, 'D') :- s152_d_2_D(X, T, Y).
s152_d_2(X, T, Y, 'E') :- s152_d_2_E(X, T, Y).
s152_d_2(X, T, Y, 'F') :- s152_d_2_F(X, T, Y).
s152_d_2(X, T, Y, 'G') :- s152_d_2_G(X, T, Y).
s152_d_2(X, T, Y, 'H') :- s152_d_2_H(X, T, Y).

%   (A) A child or a descendant of a child.
s152_d_2_A(X, T, Y) :-
    year_last_day(Y, L), descendant_of(X, T, L).

%   (B) A brother, sister, stepbrother, or stepsister.
s152_d_2_B(X, T, Y) :-
    year_last_day(Y, L),
    ( sibling_of(X, T, L) ; stepsibling_of(X, T, L) ).

%   (C) The father or mother, or an ancestor of either.
s152_d_2_C(X, T, Y) :-
    year_last_day(Y, L), descendant_of(T, X, L).

%   (D) A stepfather or stepmother.
s152_d_2_D(X, T, Y) :-
    year_last_day(Y, L), stepparent_of(X, T, L).

%   (E) A son or daughter of a brother or sister of the taxpayer.
s152_d_2_E(X, T, Y) :-
    year_last_day(Y, L),
    sibling_of(S, T, L), parent_of(S, X, L).

%   (F) A brother or sister of the father or mother of the taxpayer.
s152_d_2_F(X, T, Y) :-
    year_last_day(Y, L),
    parent_of(P, T, L), sibling_of(X, P, L).

%   (G) A son-, daughter-, father-, mother-, brother- or sister-in-law.
s152_d_2_G(X, T, Y) :-
    year_last_day(Y, L), in_law_of(X, T, L).

%   (H) An individual (other than one who at any time during the year was
%   the spouse of the taxpayer, without regard to §7703) who for the whole
%   taxable year (while alive) has the same principal place of abode as
%   the taxpayer and is a member of the taxpayer's household.
s152_d_2_H(X, T, Y) :-
    year_bounds(Y, F, L),
    \+ married_during(X, T, F, L),
    shared_abode_days(X, T, _, Y, Days),
    days_alive_in_year(X, Y, Alive),
    Alive > 0,
    Days >= Alive.

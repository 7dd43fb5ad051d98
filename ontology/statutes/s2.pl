/*  s2.pl -- §2. Definitions and special rules.

    s2_a(T, Y)             T is a surviving spouse for Y.
    s2_a_1(T, S, Y)        (1): (A) spouse S died in one of the two
                           preceding years, and (B) household with a
                           dependent son/stepson/daughter/stepdaughter.
    s2_a_2_A(T, Y)         (2)(A): T remarried before the close of Y
                           (disqualifies).
    s2_a_2_B(T, S)         (2)(B): a joint return could have been made for
                           the year of S's death (required).
    s2_b(T, Y)             T is a head of household for Y.
    s2_b_1(T, Y, Q)        (1), by reason of individual Q.
    s2_b_2(T, Y)           T is married at the close of Y for (b)(1),
                           determined under (b)(2)(A)-(C).
    s2_b_3_A(T, Y)         T is a nonresident alien during Y (disqualifies).
    s2_b_3_B(T, Q, Y)      Q is a dependent only by reason of §152(d)(2)(H)
                           (Q does not count).
*/

cites(s2_a/2, '§2(a)', 0).
cites(s2_a_1/3, '§2(a)(1)', 0).
cites(s2_a_1_A/3, '§2(a)(1)(A)', 0).
cites(s2_a_1_B/4, '§2(a)(1)(B)', 0).
cites(s2_a_1_B_i/3, '§2(a)(1)(B)(i)', 0).
cites(s2_a_1_B_ii/3, '§2(a)(1)(B)(ii)', 0).
cites(s2_a_2/3, '§2(a)(2)', 0).
cites(s2_a_2_A/3, '§2(a)(2)(A)', 0).
cites(s2_a_2_B/2, '§2(a)(2)(B)', 0).
cites(s2_b/2, '§2(b)', 0).
cites(s2_b_1/3, '§2(b)(1)', 0).
cites(s2_b_1_A/3, '§2(b)(1)(A)', 0).
cites(s2_b_1_A_i/3, '§2(b)(1)(A)(i)', 0).
cites(s2_b_1_A_i_I/2, '§2(b)(1)(A)(i)(I)', 0).
cites(s2_b_1_A_i_I/3, '§2(b)(1)(A)(i)(I)', 0).
cites(s2_b_1_A_i__child/4, '§2(b)(1)(A)(i)', 0).
cites(s2_b_1_A_i_II/3, '§2(b)(1)(A)(i)(II)', 0).
cites(s2_b_1_A_ii/3, '§2(b)(1)(A)(ii)', 0).
cites(s2_b_1_B/3, '§2(b)(1)(B)', 0).
cites(s2_b_1__household/3, '§2(b)(1)', 0).
cites(s2_b_2/2, '§2(b)(2)', 0).
cites(s2_b_2_A/3, '§2(b)(2)(A)', 0).
cites(s2_b_2_B/3, '§2(b)(2)(B)', 0).
cites(s2_b_2_C/3, '§2(b)(2)(C)', 0).
cites(s2_b_3/2, '§2(b)(3)', 0).
cites(s2_b_3/3, '§2(b)(3)', 0).
cites(s2_b_3_A/2, '§2(b)(3)(A)', 0).
cites(s2_b_3_B/3, '§2(b)(3)(B)', 0).

/* (a) Surviving spouse --------------------------------------------------- */

%!  s2_a(+T, +Y) T is a surviving spouse for the taxable year Y.
s2_a(T, Y) :-
    s2_a_1(T, S, Y),
    s2_a_2(T, S, Y).

%!  s2_a_1(+T, ?S, +Y)
s2_a_1(T, S, Y) :-
    s2_a_1_A(T, S, Y),
    s2_a_1_B(T, Y, _Place, _Dependent).

%!  s2_a_1_A(+T, ?S, +Y) T's spouse S died during either of the two years
%   immediately preceding Y (T and S being married at the death).
s2_a_1_A(T, S, Y) :-
    Y2 is Y - 2, Y1 is Y - 1,
    year_first_day(Y2, F), year_last_day(Y1, L),
    died_during(S, F, L, Day),
    married_on(T, S, Day),
    \+ decree_of_separation(T, S, Day).

%!  s2_a_1_B(+T, +Y, ?Place, ?D) T maintains as his home a household
%   (Place) which constitutes for the taxable year the principal place of
%   abode, as a member of the household, of a dependent D who (i) is a son,
%   stepson, daughter or stepdaughter of T, and (ii) for whom T is entitled
%   to a deduction under §151.  T maintains the household if T furnishes
%   over half of its cost during the year.  "For the taxable year": D lives
%   there every day of the year on which D is alive.
s2_a_1_B(T, Y, Place, D) :-
    abode(T, Place, _, _),
    abode_days(T, Place, Y, TDays),
    more_than_half_year(TDays, Y),
    maintains_household(T, Place, Y),
    s2_a_1_B_i(T, D, Y),
    abode_days(D, Place, Y, DDays),
    days_alive_in_year(D, Y, Alive),
    Alive > 0,
    DDays >= Alive,
    s2_a_1_B_ii(T, D, Y).

%!  s2_a_1_B_i(+T, ?D, +Y) D is a son, stepson, daughter or stepdaughter of T.
s2_a_1_B_i(T, D, Y) :-
    year_last_day(Y, L),
    (   parent_of(T, D, L)
    ;   stepparent_of(T, D, L)
    ).

%!  s2_a_1_B_ii(+T, +D, +Y) T is entitled to a deduction for D under §151.
s2_a_1_B_ii(T, D, Y) :-
    s151_c(T, D, Y).

%!  s2_a_2(+T, +S, +Y) the limitations of (2) do not exclude T.
s2_a_2(T, S, Y) :-
    \+ s2_a_2_A(T, S, Y),
    s2_a_2_B(T, S).

%!  s2_a_2_A(+T, +S, +Y) T remarried at any time before the close of Y
%   (after the death of S).
s2_a_2_A(T, S, Y) :-
    died_on(S, DS),
    year_last_day(Y, L),
    marriage_between(M, T, S2),
    S2 \== S,
    start_(M, MD), date_days(MD, MS),
    MS >= DS, MS =< L.

%!  s2_a_2_B(+T, +S) for T's taxable year during which S died, a joint
%   return could have been made: neither spouse was a nonresident alien at
%   any time during that year.
s2_a_2_B(T, S) :-
    died_on(S, DS),
    days_year(DS, YD),
    s2_a_2_B__joint_return_possible(T, S, YD).

cites(s2_a_2_B__joint_return_possible/3, '§2(a)(2)(B)', 0).
%!  s2_a_2_B__joint_return_possible(+T, +S, +Y) "a husband and wife may make
%   a single return jointly ... except that no joint return shall be made if
%   either the husband or wife at any time during the taxable year is a
%   nonresident alien."
s2_a_2_B__joint_return_possible(T, S, Y) :-
    year_bounds(Y, F, L),
    \+ nonresident_alien_during(T, F, L),
    \+ nonresident_alien_during(S, F, L).

/* (b) Head of household -------------------------------------------------- */

%!  s2_b(+T, +Y) T is a head of household for Y.
s2_b(T, Y) :-
    \+ s2_b_3_A(T, Y),
    once(s2_b_1(T, Y, _Q)).

%!  s2_b_1(+T, +Y, ?Q) T is not married at the close of the year, is not a
%   surviving spouse, and (A) or (B) holds by reason of individual Q.
s2_b_1(T, Y, Q) :-
    \+ s2_b_2(T, Y),
    \+ s2_a(T, Y),
    (   s2_b_1_A(T, Y, Q)
    ;   s2_b_1_B(T, Y, Q)
    ),
    \+ s2_b_3_B(T, Q, Y).

%!  s2_b_1_A(+T, +Y, ?Q) T maintains as his home a household which for
%   more than one-half of the year is the principal place of abode, as a
%   member of the household, of (i) a qualifying child or (ii) a dependent.
s2_b_1_A(T, Y, Q) :-
    s2_b_1__household(T, Place, Y),
    (   s2_b_1_A_i(T, Q, Y)
    ;   s2_b_1_A_ii(T, Q, Y)
    ),
    shared_abode_days(T, Q, Place, Y, Days),
    more_than_half_year(Days, Y).

%!  s2_b_1__household(+T, ?Place, +Y) a household T maintains (furnishes
%   over half of its cost during the year) as his home.
s2_b_1__household(T, Place, Y) :-
    abode(T, Place, _, _),
    abode_days(T, Place, Y, Days), Days > 0,
    maintains_household(T, Place, Y).

%!  s2_b_1_A_i(+T, ?Q, +Y) Q is a qualifying child of T (§152(c)), but not
%   if Q (I) is married at the close of T's year and (II) is not a
%   dependent of T by reason of §152(b)(2).
s2_b_1_A_i(T, Q, Y) :-
    s152_c(Q, T, Y),
    \+ ( s2_b_1_A_i_I(Q, Y), s2_b_1_A_i_II(Q, T, Y) ).

s2_b_1_A_i_I(Q, Y) :-
    year_last_day(Y, L),
    married_on(Q, _, L),
    \+ decree_of_separation(Q, _, L).

%!  s2_b_1_A_i_I(+X, +Z, +Y) the same, asked of a child and a taxpayer
%   named in either order: "such child" is the one of the two who bears
%   the taxpayer a §152(c)(2) relationship (the facts say which).
s2_b_1_A_i_I(X, Z, Y) :-
    s2_b_1_A_i__child(X, Z, Y, Q),
    s2_b_1_A_i_I(Q, Y).

%!  s2_b_1_A_i_II(+X, +Z, +Y) "such child" (of X and Z, as above) is not a
%   dependent of the individual by reason of §152(b)(2): he made a joint
%   return with his spouse.
s2_b_1_A_i_II(X, Z, Y) :-
    s2_b_1_A_i__child(X, Z, Y, Q),
    s152_b_2(Q, Y).

%!  s2_b_1_A_i__child(+X, +Z, +Y, -Q) Q is the one of X and Z who bears
%   the other a relationship of §152(c)(2) (X when each bears it, as
%   siblings do).
s2_b_1_A_i__child(X, Z, Y, Q) :-
    (   s152_c_2(X, Z, Y)
    ->  Q = X
    ;   s152_c_2(Z, X, Y)
    ->  Q = Z
    ).

%!  s2_b_1_A_ii(+T, ?Q, +Y) Q is a dependent of T for whom T is entitled
%   to a deduction under §151.
s2_b_1_A_ii(T, Q, Y) :-
    s151_c(T, Q, Y).

%!  s2_b_1_B(+T, +Y, ?Q) T maintains a household which for the taxable
%   year (every day Q is alive) is the principal place of abode of Q, T's
%   father or mother, and T is entitled to a deduction for Q under §151.
s2_b_1_B(T, Y, Q) :-
    year_last_day(Y, L),
    parent_of(Q, T, L),
    abode(Q, Place, _, _),
    maintains_household(T, Place, Y),
    abode_days(Q, Place, Y, Days),
    days_alive_in_year(Q, Y, Alive),
    Alive > 0,
    Days >= Alive,
    s151_c(T, Q, Y).

%!  s2_b_2(+T, +Y) T is considered married at the close of the year:
%   married then and neither (A) legally separated nor (B) married to a
%   nonresident alien; or (C) T's spouse (not a nonresident alien) died
%   during the year.
s2_b_2(T, Y) :-
    year_last_day(Y, L),
    married_on(T, S, L),
    \+ s2_b_2_A(T, S, Y),
    \+ s2_b_2_B(T, S, Y).
s2_b_2(T, Y) :-
    s2_b_2_C(T, _S, Y).

%!  s2_b_2_A(+T, +S, +Y) T is legally separated from S under a decree of
%   divorce or of separate maintenance: not married.
s2_b_2_A(T, S, Y) :-
    year_last_day(Y, L),
    decree_of_separation(T, S, L).

%!  s2_b_2_B(+T, +S, +Y) at some time during the year T's spouse S is a
%   nonresident alien: not married.
s2_b_2_B(_T, S, Y) :-
    year_bounds(Y, F, L),
    nonresident_alien_during(S, F, L).

%!  s2_b_2_C(+T, ?S, +Y) T's spouse S (not described in (B)) died during
%   the year: married.
s2_b_2_C(T, S, Y) :-
    year_bounds(Y, F, L),
    died_during(S, F, L, D),
    married_on(T, S, D),
    \+ decree_of_separation(T, S, D),
    \+ s2_b_2_B(T, S, Y).

%!  s2_b_3_A(+T, +Y) T is a nonresident alien at any time during the year.
s2_b_3_A(T, Y) :-
    year_bounds(Y, F, L),
    nonresident_alien_during(T, F, L).

%!  s2_b_3(+T, +Y) §2(b)(3) keeps T from being a head of household: T is a
%   nonresident alien during the year (A), or T's household is the abode
%   of an individual who would not be T's dependent but for §152(d)(2)(H)
%   (B).  Fails where neither limitation reaches T.
s2_b_3(T, Y) :-
    (   s2_b_3_A(T, Y)
    ->  true
    ;   once(( ( s2_b_1_A(T, Y, Q) ; s2_b_1_B(T, Y, Q) ), s2_b_3_B(T, Q, Y) ))
    ).

%!  s2_b_3(+T, +Q, +Y) the same, the individual named: (A), or (B) for Q.
s2_b_3(T, Q, Y) :-
    (   s2_b_3_A(T, Y)
    ->  true
    ;   s2_b_3_B(T, Q, Y)
    ).

%!  s2_b_3_B(+T, +Q, +Y) Q "would not be a dependent for the taxable year
%   but for subparagraph (H) of section 152(d)(2)": Q is T's dependent,
%   meets (H), and is neither T's qualifying child nor related to T by
%   (A)-(G).  (Before, anyone who was no dependent of T at all, a stranger
%   with income, met it when asked on its own.)
s2_b_3_B(T, Q, Y) :-
    s152_d_2_H(Q, T, Y),
    s152_a(Q, T, Y),
    \+ s152_c(Q, T, Y),
    \+ ( s152_d_2(Q, T, Y, Para), Para \== 'H' ).

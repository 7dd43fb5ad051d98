/*  s63.pl -- §63. Taxable income defined.

    s63(T, Y, TI)          taxable income: (a) if T itemizes, else (b).
    s63_a(T, Y, TI)        gross income minus the deductions allowed
                           (itemized deductions after §68, and §151).
    s63_b(T, Y, TI)        AGI minus (1) the standard deduction and (2) the
                           deduction for personal exemptions.
    s63_c(T, Y, SD)        the standard deduction; (c)(1)-(7).
    s63_d(T, Y, Itemized)  the itemized deductions.
    s63_f(T, Y, Amount)    aged or blind additional amounts; (f)(1)-(3).
    s63_g                  marital status is determined under §7703 (every
                           marital test below calls s7703/3).

    On a joint return the return's gross income is both spouses' (see
    adjusted_gross_income/3), itemized deductions are both spouses', and
    "the taxpayer" of (f)(1)(A)/(2)(A) is the individual whose tax is
    computed.
*/

cites(s63/3, '§63', 3).
cites(s63_a/3, '§63(a)', 3).
cites(s63_a__itemized/3, '§63(a)', 3).
cites(s63_b/3, '§63(b)', 3).
cites(s63_b__itemizes/2, '§63(b)', 0).
cites(s63_b_1/3, '§63(b)(1)', 3).
cites(s63_b_2/3, '§63(b)(2)', 3).
cites(s63_c/3, '§63(c)', 3).
cites(s63_c_1/3, '§63(c)(1)', 3).
cites(s63_c_1_A/3, '§63(c)(1)(A)', 3).
cites(s63_c_1_B/3, '§63(c)(1)(B)', 3).
cites(s63_c_2/3, '§63(c)(2)', 3).
cites(s63_c_2_A/3, '§63(c)(2)(A)', 3).
cites(s63_c_2_A_i/2, '§63(c)(2)(A)(i)', 0).
cites(s63_c_2_A_ii/2, '§63(c)(2)(A)(ii)', 0).
cites(s63_c_2_B/3, '§63(c)(2)(B)', 3).
cites(s63_c_2_C/2, '§63(c)(2)(C)', 2).
cites(s63_c_3/3, '§63(c)(3)', 3).
cites(s63_c_5/4, '§63(c)(5)', 4).
cites(s63_c_5__dependent/2, '§63(c)(5)', 0).
cites(s63_c_5_A/3, '§63(c)(5)(A)', 3).
cites(s63_c_5_B/3, '§63(c)(5)(B)', 3).
cites(s63_c_6/2, '§63(c)(6)', 0).
cites(s63_c_6_A/2, '§63(c)(6)(A)', 0).
cites(s63_c_6_B/2, '§63(c)(6)(B)', 0).
cites(s63_c_6_D/2, '§63(c)(6)(D)', 0).
cites(s63_c_7/1, '§63(c)(7)', 0).
cites(s63_c_7_i/2, '§63(c)(7)(i)', 2).
cites(s63_c_7_ii/2, '§63(c)(7)(ii)', 2).
cites(s63_d/3, '§63(d)', 3).
cites(s63_d_2/3, '§63(d)(2)', 3).
cites(s63_f/3, '§63(f)', 3).
cites(s63_f__paragraph/4, '§63(f)', 4).
cites(s63_f_1/3, '§63(f)(1)', 3).
cites(s63_f_1__for/3, '§63(f)(1)', 0).
cites(s63_f_2/3, '§63(f)(2)', 3).
cites(s63_f_2__for/3, '§63(f)(2)', 0).
cites(s63_f_1_A/3, '§63(f)(1)(A)', 0).
cites(s63_f_1_B/3, '§63(f)(1)(B)', 0).
cites(s63_f_2_A/3, '§63(f)(2)(A)', 0).
cites(s63_f_2_B/3, '§63(f)(2)(B)', 0).
cites(s63_f_3/3, '§63(f)(3)', 3).
cites(s63_f__unit/3, '§63(f)', 3).

helper_node(adjusted_gross_income/3, 3).
helper_node(return_gross_income/3, 3).

% How a node's value follows from its children's values (see proof.pl).
combines(s63/3, same).
combines(s63_a/3, difference).
combines(s63_a__itemized/3, last).
combines(s63_d_2/3, same).
combines(s63_b/3, difference).
combines(s63_b_1/3, same).
combines(s63_b_2/3, same).
combines(s63_c_1/3, sum).
combines(s63_c_1_B/3, same).
combines(s63_c_3/3, same).
combines(adjusted_gross_income/3, same).
combines(return_gross_income/3, sum).

%!  return_gross_income(+T, +Y, -GI) gross income reported on T's return:
%   T's own, plus the spouse's on a joint return.
return_gross_income(T, Y, GI) :-
    (   s1_a_1__joint_return(T, S, Y)
    ->  gross_income(T, Y, G1),
        gross_income(S, Y, G2),
        GI is G1 + G2
    ;   gross_income(T, Y, GI)
    ).

%!  adjusted_gross_income(+T, +Y, -AGI) no deduction of the corpus is
%   allowable in arriving at adjusted gross income, which therefore equals
%   the gross income of the return.
adjusted_gross_income(T, Y, AGI) :-
    return_gross_income(T, Y, AGI).

%!  s63(+T, +Y, -TI) taxable income.
s63(T, Y, TI) :-
    (   s63_b__itemizes(T, Y)
    ->  s63_a(T, Y, TI)
    ;   s63_b(T, Y, TI)
    ).

%!  s63_a(+T, +Y, -TI) gross income minus the deductions allowed by this
%   chapter other than the standard deduction: the itemized deductions
%   (as limited by §68) and the deduction for personal exemptions.
s63_a(T, Y, TI) :-
    return_gross_income(T, Y, GI),
    s63_a__itemized(T, Y, Itemized),
    s63_d_2(T, Y, Exemptions),
    TI is GI - Itemized - Exemptions.

%!  s63_a__itemized(+T, +Y, -Allowed) the itemized deductions (§63(d)) as
%   limited by §68.
s63_a__itemized(T, Y, Allowed) :-
    s63_d(T, Y, Itemized),
    (   s68(T, Y, Itemized, Limited)
    ->  Allowed = Limited
    ;   Allowed = Itemized
    ).

%!  s63_b__itemizes(+T, +Y) T elects to itemize deductions for Y: T (or
%   T's spouse on a joint return) claims itemized deductions (deduction_
%   events) for the year.
s63_b__itemizes(T, Y) :-
    (   itemized_deduction_item(T, Y, _, _, _)
    ->  true
    ;   s1_a_1__joint_return(T, S, Y),
        itemized_deduction_item(S, Y, _, _, _)
    ).

%!  s63_b(+T, +Y, -TI) AGI minus (1) and (2).
s63_b(T, Y, TI) :-
    adjusted_gross_income(T, Y, AGI),
    s63_b_1(T, Y, SD),
    s63_b_2(T, Y, Exemptions),
    TI is AGI - SD - Exemptions.

s63_b_1(T, Y, SD) :- s63_c(T, Y, SD).
s63_b_2(T, Y, E) :- s151_a(T, Y, E).

%!  s63_c(+T, +Y, -SD) the standard deduction.
s63_c(T, Y, SD) :-
    (   s63_c_6(T, Y)
    ->  SD = 0
    ;   s63_c_1(T, Y, SD)
    ).

%!  s63_c_1(+T, +Y, -SD) sum of (A) the basic standard deduction, and (B)
%   the additional standard deduction.
s63_c_1(T, Y, SD) :-
    s63_c_1_A(T, Y, Basic),
    s63_c_1_B(T, Y, Additional),
    SD is Basic + Additional.

s63_c_1_A(T, Y, Basic) :-
    s63_c_2(T, Y, Basic0),
    (   s63_c_5(T, Y, Basic0, Limited)
    ->  Basic = Limited
    ;   Basic = Basic0
    ).

s63_c_1_B(T, Y, Additional) :-
    s63_c_3(T, Y, Additional).

%!  s63_c_2(+T, +Y, -Basic) the basic standard deduction.
s63_c_2(T, Y, Basic) :-
    (   s63_c_2_A(T, Y, B) -> Basic = B
    ;   s63_c_2_B(T, Y, B) -> Basic = B
    ;   s63_c_2_C(Y, B) -> Basic = B
    ).

%!  s63_c_2_A(+T, +Y, -Basic) 200 percent of the (C) amount for (i) a joint
%   return or (ii) a surviving spouse.
s63_c_2_A(T, Y, Basic) :-
    (   s63_c_2_A_i(T, Y) -> true ; s63_c_2_A_ii(T, Y) ),
    s63_c_2_C(Y, C),
    percent(200, C, Basic).

s63_c_2_A_i(T, Y) :- s1_a_1__joint_return(T, _, Y).
s63_c_2_A_ii(T, Y) :- s2_a(T, Y).

%!  s63_c_2_B(+T, +Y, -Basic) $4,400 for a head of household ($18,000 under
%   (c)(7)(i)).
s63_c_2_B(T, Y, Basic) :-
    s2_b(T, Y),
    (   s63_c_7_i(Y, Sub)
    ->  Basic = Sub
    ;   Basic = 4400
    ).

%!  s63_c_2_C(+Y, -Basic) $3,000 in any other case ($12,000 under (c)(7)(ii)).
s63_c_2_C(Y, Basic) :-
    (   s63_c_7_ii(Y, Sub)
    ->  Basic = Sub
    ;   Basic = 3000
    ).

%!  s63_c_3(+T, +Y, -Additional) the sum of the additional amounts to which
%   T is entitled under (f).
s63_c_3(T, Y, Additional) :-
    s63_f(T, Y, Additional).

%!  s63_c_5(+T, +Y, +Basic0, -Basic) for an individual with respect to whom
%   a §151 deduction is allowable to another taxpayer, the basic standard
%   deduction may not exceed the greater of (A) and (B).  It fails for
%   anyone else: the provision does not apply (asked as yes or no, it is
%   "no"; before, it passed the amount through and said "yes" of everyone).
s63_c_5(T, Y, Basic0, Basic) :-
    % Asked on its own (a question about (c)(5)), the amount it limits is
    % the basic standard deduction of (c)(2).
    ( var(Basic0) -> s63_c_2(T, Y, Basic0) ; true ),
    s63_c_5__dependent(T, Y),
    s63_c_5_A(T, Y, A),
    s63_c_5_B(T, Y, B),
    Basic is min(Basic0, max(A, B)).

%!  s63_c_5__dependent(+T, +Y) a deduction under §151 for T is allowable to
%   another taxpayer.
s63_c_5__dependent(T, Y) :-
    (   s151_c(Other, T, Y), Other \== T
    ->  true
    ).

%!  s63_c_5_A(+T, +Y, -Amount) (A) $500, for an individual (c)(5) covers.
s63_c_5_A(T, Y, 500) :- s63_c_5__dependent(T, Y).

%!  s63_c_5_B(+T, +Y, -Amount) (B) $250 plus the individual's earned income
%   (all of his gross income is earned income), for one (c)(5) covers.
s63_c_5_B(T, Y, Amount) :-
    s63_c_5__dependent(T, Y),
    gross_income(T, Y, Earned),
    Amount is 250 + Earned.

%!  s63_c_6(+T, +Y) the standard deduction is zero.
s63_c_6(T, Y) :- s63_c_6_A(T, Y).
s63_c_6(T, Y) :- s63_c_6_B(T, Y).
s63_c_6(T, Y) :- s63_c_6_D(T, Y).

%!  s63_c_6_A(+T, +Y) a married individual filing a separate return where
%   either spouse itemizes deductions.
s63_c_6_A(T, Y) :-
    s7703(T, S, Y),
    \+ s1_a_1__joint_return(T, S, Y),
    (   s63_b__itemizes(T, Y) -> true ; s63_b__itemizes(S, Y) ).

%!  s63_c_6_B(+T, +Y) a nonresident alien individual.
s63_c_6_B(T, Y) :-
    year_bounds(Y, F, L),
    nonresident_alien_during(T, F, L).

%!  s63_c_6_D(+T, +Y) an estate or trust, common trust fund, or partnership.
s63_c_6_D(T, Y) :-
    year_bounds(Y, F, L),
    (   business_trust_(E) ; estate_(E) ),
    agent_(E, T),
    ev_during(E, F, L).

%!  s63_c_7(+Y) taxable years beginning after 2017 and before 2026.
year_window(s63_c_7/1, 2018, 2025).
s63_c_7(Y) :- in_year_window(s63_c_7/1, Y).
%!  s63_c_7_i(+Y, -Amount), s63_c_7_ii(+Y, -Amount) the substitutions of
%   (7) hold only in its years: asked about 2017, "(c)(7)(i) applies" is
%   no (before, they took no year and said yes in any year).
s63_c_7_i(Y, 18000) :- s63_c_7(Y).
s63_c_7_ii(Y, 12000) :- s63_c_7(Y).

%!  s63_d_2(+T, +Y, -Amount) the deduction for personal exemptions (§151),
%   which (d)(2) leaves out of the itemized deductions; §63(a) takes it
%   separately.
s63_d_2(T, Y, Amount) :- s151_a(T, Y, Amount).

%!  s63_d(+T, +Y, -Itemized) the itemized deductions: deductions allowable
%   other than (1) those in arriving at AGI (none in the corpus) and
%   (2) personal exemptions (computed separately by §151).
s63_d(T, Y, Itemized) :-
    (   s1_a_1__joint_return(T, S, Y)
    ->  true
    ;   S = T
    ),
    sum_of(K-A,
           ( member(Q, [T, S]),
             itemized_deduction_item(Q, Y, E, D, A),
             K = E-D ),
           Itemized).

%!  s63_f(+T, +Y, -Amount) the additional amounts of (f)(1) and (f)(2).
s63_f(T, Y, Amount) :-
    sum_of(P-A, s63_f__paragraph(T, Y, P, A), Amount).

%!  s63_f__paragraph(+T, +Y, ?P, -Amount) the amount of paragraph P.
s63_f__paragraph(T, Y, 1, Amount) :- s63_f_1(T, Y, Amount).
s63_f__paragraph(T, Y, 2, Amount) :- s63_f_2(T, Y, Amount).

%!  s63_f_1(+T, +Y, -Amount) the additional amounts for the aged: one unit
%   ((f)(3)) for each of (A), (B) that applies; fails when neither does
%   (asked as yes or no, (f)(1) then does not apply).
s63_f_1(T, Y, Amount) :-
    s63_f__unit(T, Y, Unit),
    sum_of(X-Unit, s63_f_1__for(T, Y, X), Amount),
    Amount > 0.

s63_f_1__for(T, Y, T) :- s63_f_1_A(T, Y, _).
s63_f_1__for(T, Y, S) :- s63_f_1_B(T, Y, S).

%!  s63_f_2(+T, +Y, -Amount) the additional amounts for the blind, as (f)(1).
s63_f_2(T, Y, Amount) :-
    s63_f__unit(T, Y, Unit),
    sum_of(X-Unit, s63_f_2__for(T, Y, X), Amount),
    Amount > 0.

s63_f_2__for(T, Y, T) :- s63_f_2_A(T, Y, _).
s63_f_2__for(T, Y, S) :- s63_f_2_B(T, Y, S).

%!  s63_f_1_A(+T, +Y, -) T attained age 65 before the close of the year.
s63_f_1_A(T, Y, T) :-
    year_last_day(Y, L),
    attained_age_by(T, 65, L).

%!  s63_f_1_B(+T, +Y, -S) T's spouse S attained age 65 before the close of
%   the year, and an additional exemption is allowable to T for S under
%   §151(b).
s63_f_1_B(T, Y, S) :-
    s151_b__spouse(T, S, Y),
    year_last_day(Y, L),
    attained_age_by(S, 65, L).

%!  s63_f_2_A(+T, +Y, -) T is blind at the close of the year.
s63_f_2_A(T, Y, T) :-
    year_last_day(Y, L),
    blind_on(T, L).

%!  s63_f_2_B(+T, +Y, -S) T's spouse S is blind at the close of the year (at
%   death, if S died during the year) and an additional exemption is
%   allowable to T for S under §151(b).
s63_f_2_B(T, Y, S) :-
    s151_b__spouse(T, S, Y),
    year_bounds(Y, F, L),
    (   died_during(S, F, L, D) -> Day = D ; Day = L ),
    blind_on(S, Day).

%!  s63_f_3(+T, +Y, -Unit) $750 instead of $600 for an individual who is
%   not married and is not a surviving spouse.
%   Fails for anyone else: (f)(3) does not apply to him.
s63_f_3(T, Y, 750) :-
    \+ s7703(T, _, Y),
    \+ s2_a(T, Y).

%!  s63_f__unit(+T, +Y, -Unit) $600 of (f)(1) and (f)(2), or (f)(3)'s $750.
s63_f__unit(T, Y, Unit) :-
    (   s63_f_3(T, Y, U)
    ->  Unit = U
    ;   Unit = 600
    ).

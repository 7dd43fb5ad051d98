/*  s1.pl -- §1. Tax imposed.

    s1(T, Y, Tax)        the income tax on T's taxable income for Y (exact).
    s1_a(T, Y, Tax)      (a) married filing jointly (1) or surviving spouse (2).
    s1_b(T, Y, Tax)      (b) head of household.
    s1_c(T, Y, Tax)      (c) unmarried individual.
    s1_d(T, Y, Tax)      (d) married filing separately.
    s1_X_R(TI, Tax)      rate schedule item R (i..v) of subsection X.

    The subsections are tried in the order (a), (b), (c), (d).  The only
    overlap the text allows is between (b) and (d) (a married individual
    whose spouse is a nonresident alien is "not married" for §2(b)); the
    head-of-household schedule then applies.
*/

cites(s1/3, '§1', 3).
cites(s1_a/3, '§1(a)', 3).
cites(s1_a_1/2, '§1(a)(1)', 0).
cites(s1_a_1__joint_return/3, '§1(a)(1)', 0).
cites(s1_a_2/2, '§1(a)(2)', 0).
cites(s1_b/3, '§1(b)', 3).
cites(s1_c/3, '§1(c)', 3).
cites(s1_d/3, '§1(d)', 3).
combines(s1/3, same).

%!  s1(+T, +Y, -Tax)
s1(T, Y, Tax) :-
    (   s1_a(T, Y, Tax0) -> Tax = Tax0
    ;   s1_b(T, Y, Tax0) -> Tax = Tax0
    ;   s1_c(T, Y, Tax0) -> Tax = Tax0
    ;   s1_d(T, Y, Tax0) -> Tax = Tax0
    ).

/* (a) Married individuals filing joint returns and surviving spouses ----- */

s1_a(T, Y, Tax) :-
    (   s1_a_1(T, Y) -> true ; s1_a_2(T, Y) ),
    s63(T, Y, TI),
    s1_a__schedule(TI, Tax).

%!  s1_a_1(+T, +Y) T is a married individual (§7703) who makes a single
%   return jointly with his spouse.
s1_a_1(T, Y) :- s1_a_1__joint_return(T, _, Y).

%!  s1_a_1__joint_return(?T, ?S, +Y) T and S, married (as defined in §7703), make a
%   single return jointly for Y; a joint return is not possible if either
%   spouse is a nonresident alien at any time during the year
%   (§2(a)(2)(B), last sentence).
s1_a_1__joint_return(T, S, Y) :-
    joint_return_filed(T, S, Y),
    s7703(T, S, Y),
    s2_a_2_B__joint_return_possible(T, S, Y).

%!  s1_a_2(+T, +Y) T is a surviving spouse (§2(a)).
s1_a_2(T, Y) :- s2_a(T, Y).

/* (b) Heads of households ------------------------------------------------ */

s1_b(T, Y, Tax) :-
    s2_b(T, Y),
    s63(T, Y, TI),
    s1_b__schedule(TI, Tax).

/* (c) Unmarried individuals ---------------------------------------------- */

s1_c(T, Y, Tax) :-
    \+ s2_a(T, Y),
    \+ s2_b(T, Y),
    \+ s7703(T, _, Y),
    s63(T, Y, TI),
    s1_c__schedule(TI, Tax).

/* (d) Married individuals filing separate returns ------------------------- */

s1_d(T, Y, Tax) :-
    s7703(T, S, Y),
    \+ s1_a_1__joint_return(T, S, Y),
    s63(T, Y, TI),
    s1_d__schedule(TI, Tax).

/* Rate schedules ----------------------------------------------------------
   Each item (i)-(v) applies over its bracket of taxable income.  The
   amounts are exact rationals ($35,928.50 = 71857/2, 39.6% = 396/1000).
   Taxable income at or below zero bears no tax. */

s1_a__schedule(TI, Tax) :-
    (   s1_a_i(TI, Tax) -> true
    ;   s1_a_ii(TI, Tax) -> true
    ;   s1_a_iii(TI, Tax) -> true
    ;   s1_a_iv(TI, Tax) -> true
    ;   s1_a_v(TI, Tax)
    ).
s1_b__schedule(TI, Tax) :-
    (   s1_b_i(TI, Tax) -> true
    ;   s1_b_ii(TI, Tax) -> true
    ;   s1_b_iii(TI, Tax) -> true
    ;   s1_b_iv(TI, Tax) -> true
    ;   s1_b_v(TI, Tax)
    ).
s1_c__schedule(TI, Tax) :-
    (   s1_c_i(TI, Tax) -> true
    ;   s1_c_ii(TI, Tax) -> true
    ;   s1_c_iii(TI, Tax) -> true
    ;   s1_c_iv(TI, Tax) -> true
    ;   s1_c_v(TI, Tax)
    ).
s1_d__schedule(TI, Tax) :-
    (   s1_d_i(TI, Tax) -> true
    ;   s1_d_ii(TI, Tax) -> true
    ;   s1_d_iii(TI, Tax) -> true
    ;   s1_d_iv(TI, Tax) -> true
    ;   s1_d_v(TI, Tax)
    ).

%!  bracket(+TI, +Low, +High, +Base, +RatePerThousand, -Tax) technical:
%   TI in (Low, High] (High = none: unbounded); Tax = Base + Rate * (TI-Low).
bracket(TI, Low, High, Base, Rate, Tax) :-
    TI > Low,
    ( High == none -> true ; TI =< High ),
    Tax is Base + Rate rdiv 1000 * (TI - Low).

first_bracket(TI, High, Rate, Tax) :-
    TI =< High,
    Tax is Rate rdiv 1000 * max(0, TI).

s1_a_i(TI, Tax)   :- first_bracket(TI, 36900, 150, Tax).
s1_a_ii(TI, Tax)  :- bracket(TI, 36900, 89150, 5535, 280, Tax).
s1_a_iii(TI, Tax) :- bracket(TI, 89150, 140000, 20165, 310, Tax).
s1_a_iv(TI, Tax)  :- bracket(TI, 140000, 250000, 71857 rdiv 2, 360, Tax).
s1_a_v(TI, Tax)   :- bracket(TI, 250000, none, 151057 rdiv 2, 396, Tax).

s1_b_i(TI, Tax)   :- first_bracket(TI, 29600, 150, Tax).
s1_b_ii(TI, Tax)  :- bracket(TI, 29600, 76400, 4440, 280, Tax).
s1_b_iii(TI, Tax) :- bracket(TI, 76400, 127500, 17544, 310, Tax).
s1_b_iv(TI, Tax)  :- bracket(TI, 127500, 250000, 33385, 360, Tax).
s1_b_v(TI, Tax)   :- bracket(TI, 250000, none, 77485, 396, Tax).

s1_c_i(TI, Tax)   :- first_bracket(TI, 22100, 150, Tax).
s1_c_ii(TI, Tax)  :- bracket(TI, 22100, 53500, 3315, 280, Tax).
s1_c_iii(TI, Tax) :- bracket(TI, 53500, 115000, 12107, 310, Tax).
s1_c_iv(TI, Tax)  :- bracket(TI, 115000, 250000, 31172, 360, Tax).
s1_c_v(TI, Tax)   :- bracket(TI, 250000, none, 79772, 396, Tax).

s1_d_i(TI, Tax)   :- first_bracket(TI, 18450, 150, Tax).
s1_d_ii(TI, Tax)  :- bracket(TI, 18450, 44575, 5535 rdiv 2, 280, Tax).
s1_d_iii(TI, Tax) :- bracket(TI, 44575, 70000, 20165 rdiv 2, 310, Tax).
s1_d_iv(TI, Tax)  :- bracket(TI, 70000, 125000, 71857 rdiv 4, 360, Tax).
s1_d_v(TI, Tax)   :- bracket(TI, 125000, none, 151057 rdiv 4, 396, Tax).

cites(s1_a__schedule/2, '§1(a)', 2).
cites(s1_b__schedule/2, '§1(b)', 2).
cites(s1_c__schedule/2, '§1(c)', 2).
cites(s1_d__schedule/2, '§1(d)', 2).
cites(s1_a_i/2, '§1(a)(i)', 2).
cites(s1_a_ii/2, '§1(a)(ii)', 2).
cites(s1_a_iii/2, '§1(a)(iii)', 2).
cites(s1_a_iv/2, '§1(a)(iv)', 2).
cites(s1_a_v/2, '§1(a)(v)', 2).
cites(s1_b_i/2, '§1(b)(i)', 2).
cites(s1_b_ii/2, '§1(b)(ii)', 2).
cites(s1_b_iii/2, '§1(b)(iii)', 2).
cites(s1_b_iv/2, '§1(b)(iv)', 2).
cites(s1_b_v/2, '§1(b)(v)', 2).
cites(s1_c_i/2, '§1(c)(i)', 2).
cites(s1_c_ii/2, '§1(c)(ii)', 2).
cites(s1_c_iii/2, '§1(c)(iii)', 2).
cites(s1_c_iv/2, '§1(c)(iv)', 2).
cites(s1_c_v/2, '§1(c)(v)', 2).
cites(s1_d_i/2, '§1(d)(i)', 2).
cites(s1_d_ii/2, '§1(d)(ii)', 2).
cites(s1_d_iii/2, '§1(d)(iii)', 2).
cites(s1_d_iv/2, '§1(d)(iv)', 2).
cites(s1_d_v/2, '§1(d)(v)', 2).

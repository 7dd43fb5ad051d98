/*  s68.pl -- §68. Overall limitation on itemized deductions.

    s68(T, Y, Itemized, Allowed)   itemized deductions after the limitation.
    s68_a(T, Y, Itemized, Reduction)
    s68_a_1(T, Y, Amount)          3% of the excess of AGI over the
                                   applicable amount.
    s68_a_2(Itemized, Amount)      80% of the itemized deductions.
    s68_b(T, Y, Applicable)        the applicable amount; (b)(1)(A)-(D).
    s68_f(Y)                       the section does not apply (2018-2025).
*/

cites(s68/4, '§68', 4).
cites(s68_a/4, '§68(a)', 4).
cites(s68_a_1/3, '§68(a)(1)', 3).
cites(s68_a_1__amount/3, '§68(a)(1)', 3).
cites(s68_a_2/2, '§68(a)(2)', 2).
cites(s68_b/3, '§68(b)', 3).
cites(s68_b_1/3, '§68(b)(1)', 3).
cites(s68_b_1_A/3, '§68(b)(1)(A)', 3).
cites(s68_b_1_B/3, '§68(b)(1)(B)', 3).
cites(s68_b_1_C/3, '§68(b)(1)(C)', 3).
cites(s68_b_1_D/3, '§68(b)(1)(D)', 3).
cites(s68_f/1, '§68(f)', 0).

%!  s68(+T, +Y, +Itemized, -Allowed)
%   Fails where the limitation does not apply ((f), or AGI at or below the
%   applicable amount): asked as yes or no, it is then "no" (before, it
%   passed the amount through and said "yes" of everyone).
s68(T, Y, Itemized, Allowed) :-
    % Asked on its own, the deductions limited are T's itemized deductions
    % (§63(d)).
    ( var(Itemized) -> s63_d(T, Y, Itemized) ; true ),
    \+ s68_f(Y),
    s68_a(T, Y, Itemized, Reduction),
    Allowed is Itemized - Reduction.

%!  s68_a(+T, +Y, +Itemized, -Reduction) for an individual whose AGI exceeds
%   the applicable amount, the lesser of (1) and (2); otherwise nothing.
%   "This section shall not apply" in the years of (f): nor (a), asked on
%   its own (before, only s68/4 checked (f), and "§68(a) applies to Gus for
%   2018" was an Entailment).
s68_a(T, Y, Itemized, Reduction) :-
    \+ s68_f(Y),
    ( var(Itemized) -> s63_d(T, Y, Itemized) ; true ),
    adjusted_gross_income(T, Y, AGI),
    s68_b(T, Y, Applicable),
    AGI > Applicable,
    s68_a_1(T, Y, R1),
    s68_a_2(Itemized, R2),
    Reduction is min(R1, R2).

%!  s68_a_1(+T, +Y, -Amount) 3 percent of the excess of AGI over the
%   applicable amount (not in the years of (f)).
s68_a_1(T, Y, Amount) :-
    \+ s68_f(Y),
    adjusted_gross_income(T, Y, AGI),
    s68_b(T, Y, Applicable),
    s68_a_1__amount(AGI, Applicable, Amount).

%!  s68_a_1__amount(+AGI, +Applicable, -Amount) 3 percent of the excess.
s68_a_1__amount(AGI, Applicable, Amount) :-
    Excess is max(0, AGI - Applicable),
    percent(3, Excess, Amount).

%!  s68_a_2(+Itemized, -Amount) 80 percent of the itemized deductions.
s68_a_2(Itemized, Amount) :-
    percent(80, Itemized, Amount).

%!  s68_b(+T, +Y, -Applicable)
s68_b(T, Y, A) :- s68_b_1(T, Y, A).

%!  s68_b_1(+T, +Y, -Applicable) marital status determined under §7703.
s68_b_1(T, Y, A) :-
    (   s68_b_1_A(T, Y, A0) -> A = A0
    ;   s68_b_1_B(T, Y, A0) -> A = A0
    ;   s68_b_1_C(T, Y, A0) -> A = A0
    ;   s68_b_1_D(T, Y, A0) -> A = A0
    ).

%   (A) $300,000 for a joint return or a surviving spouse.
s68_b_1_A(T, Y, 300000) :-
    (   s1_a_1__joint_return(T, _, Y)
    ->  true
    ;   s2_a(T, Y)
    ).

%   (B) $275,000 for a head of household.
s68_b_1_B(T, Y, 275000) :-
    s2_b(T, Y).

%   (C) $250,000 for an individual who is not married and who is not a
%   surviving spouse or head of household.
s68_b_1_C(T, Y, 250000) :-
    \+ s7703(T, _, Y),
    \+ s2_a(T, Y),
    \+ s2_b(T, Y).

%   (D) one half of the amount under (A) for a married individual filing a
%   separate return.
s68_b_1_D(T, Y, Amount) :-
    s7703(T, S, Y),
    \+ s1_a_1__joint_return(T, S, Y),
    s68_b_1_A__amount(A),
    Amount is A rdiv 2.

s68_b_1_A__amount(300000).

%!  s68_f(+Y) taxable years beginning after December 31, 2017 and before
%   January 1, 2026.
year_window(s68_f/1, 2018, 2025).
s68_f(Y) :- in_year_window(s68_f/1, Y).

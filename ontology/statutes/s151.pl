/*  s151.pl -- §151. Allowance of deductions for personal exemptions.

    Argument order: (Taxpayer, [Individual,] Year[, Amount]).

    s151_a(T, Y, Total)      the deduction for personal exemptions: the
                             sum of one exemption amount per exemption.
    s151_b(T, X, Y)          T's exemption for X: X is T (the taxpayer)
                             or T's spouse (no joint return); on a joint
                             return each spouse has his own (s151_a).
    s151_c(T, X, Y)          exemption for X, a dependent of T (§152).
    s151_d(T, Y, Amount)     the exemption amount; (d)(1), (2), (3), (5)
                             ((d)(2), (d)(5) give the zero they set).
*/

cites(s151_a/3, '§151(a)', 3).
cites(s151_a__exemption/4, '§151(a)', 4).
cites(s151_b/3, '§151(b)', 0).
cites(s151_b__taxpayer/3, '§151(b)', 0).
cites(s151_b__spouse/3, '§151(b)', 0).
cites(s151_b__joint_taxpayer/3, '§151(b)', 0).
cites(s151_c/3, '§151(c)', 0).
cites(s151_d/3, '§151(d)', 3).
cites(s151_d_1/1, '§151(d)(1)', 1).
cites(s151_d_2/3, '§151(d)(2)', 3).
cites(s151_d_3/4, '§151(d)(3)', 4).
cites(s151_d_3_A/2, '§151(d)(3)(A)', 0).
cites(s151_d_3_B/3, '§151(d)(3)(B)', 3).
value_unit(s151_d_3_B/3, percent).
cites(s151_d_5/2, '§151(d)(5)', 2).
combines(s151_a/3, last).

%!  s151_a(+T, +Y, -Total) exemptions allowed as deductions in computing
%   taxable income: one exemption amount for each exemption of (b), (c).
s151_a(T, Y, Total) :-
    s151_d(T, Y, Amount),
    sum_of(X-Amount, s151_a__exemption(T, Y, X, Amount), Total).

%!  s151_a__exemption(+T, +Y, ?X, +Amount) one exemption, for X.
s151_a__exemption(T, Y, X, _Amount) :-
    (   s151_b(T, X, Y)
    ;   s151_b__joint_taxpayer(T, Y, X)
    ;   s151_c(T, X, Y)
    ).

%!  s151_b__joint_taxpayer(+T, +Y, ?S) on a joint return both spouses are
%   taxpayers making the return: S's own §151(b) exemption "for the
%   taxpayer" is one of the return's, not one T has "for the spouse".
s151_b__joint_taxpayer(T, Y, S) :-
    s1_a_1__joint_return(T, S, Y),
    s151_b__taxpayer(S, S, Y).

%!  s151_b(+T, ?X, +Y) T's exemption for X: for T himself, or the
%   additional one for T's spouse (only "if a joint return is not made").
s151_b(T, X, Y) :- s151_b__taxpayer(T, X, Y).
s151_b(T, X, Y) :- s151_b__spouse(T, X, Y).

%!  s151_b__taxpayer(+T, ?X, +Y) "an exemption ... for the taxpayer".
s151_b__taxpayer(T, T, _Y).

%!  s151_b__spouse(+T, ?S, +Y) "an additional exemption ... for the spouse
%   of the taxpayer if a joint return is not made by the taxpayer and his
%   spouse, and if the spouse, for the calendar year ..., has no gross
%   income and is not the dependent of another taxpayer".  A joint return
%   the law forbids (either spouse a nonresident alien during the year,
%   §2(a)(2)(B)) is not made, whatever was filed: the same return as
%   §1(a)(1)'s (before, such a couple's spouse lost this exemption and
%   the taxpayer was still taxed under §1(d)).
s151_b__spouse(T, S, Y) :-
    s7703(T, S, Y),
    \+ s1_a_1__joint_return(T, S, Y),
    gross_income(S, Y, GI), GI =:= 0,
    \+ s152_a(S, _Other, Y).

%!  s151_c(+T, ?X, +Y) X is a dependent of T (of either spouse, on a joint
%   return) for the taxable year.
s151_c(T, X, Y) :-
    s152_a(X, T, Y),
    \+ s1_a_1__joint_return(T, X, Y).
s151_c(T, X, Y) :-
    s1_a_1__joint_return(T, S, Y),
    s152_a(X, S, Y),
    X \== T.

%!  s151_d(+T, +Y, -Amount) the exemption amount applicable to T for Y.
s151_d(T, Y, Amount) :-
    (   s151_d_5(Y, Zero)
    ->  Amount = Zero
    ;   s151_d_2(T, Y, Zero)
    ->  Amount = Zero
    ;   s151_d_1(Base),
        (   s151_d_3(T, Y, Base, Reduced)
        ->  Amount = Reduced
        ;   Amount = Base
        )
    ).

%!  s151_d_1(-Amount) in general, $2,000.
s151_d_1(2000).

%!  s151_d_2(+T, +Y, -Amount) a deduction under this section for T is
%   allowable to another taxpayer: T's exemption amount is zero.  The node
%   carries the amount it sets, so a question that states one is compared.
s151_d_2(T, Y, 0) :-
    s151_c(Other, T, Y),
    Other \== T.

%!  s151_d_3(+T, +Y, +Base, -Amount) phaseout; fails where (A) does not
%   apply (asked as yes or no, "no"; before, it said "yes" of everyone).
s151_d_3(T, Y, Base, Amount) :-
    % Asked on its own, the amount reduced is the exemption amount of (d)(1).
    ( var(Base) -> s151_d_1(Base) ; true ),
    s151_d_3_A(T, Y),
    s151_d_3_B(T, Y, Pct),
    Amount is Base * (100 - Pct) rdiv 100.

%!  s151_d_3_A(+T, +Y) T's adjusted gross income exceeds the applicable
%   amount in effect under §68(b).
s151_d_3_A(T, Y) :-
    adjusted_gross_income(T, Y, AGI),
    s68_b(T, Y, Applicable),
    AGI > Applicable.

%!  s151_d_3_B(+T, +Y, -Pct) 2 percentage points for each $2,500 (or
%   fraction thereof) of the excess ($1,250 for a married individual
%   filing a separate return), at most 100.
s151_d_3_B(T, Y, Pct) :-
    adjusted_gross_income(T, Y, AGI),
    s68_b(T, Y, Applicable),
    Excess is AGI - Applicable,
    (   s68_b_1_D(T, Y, _)
    ->  Step = 1250
    ;   Step = 2500
    ),
    Steps is ceiling(Excess rdiv Step),
    Pct is min(100, 2 * max(0, Steps)).

%!  s151_d_5(+Y, -Amount) taxable years beginning after 2017 and before
%   2026: the term "exemption amount" means zero.
year_window(s151_d_5/2, 2018, 2025).
s151_d_5(Y, 0) :- in_year_window(s151_d_5/2, Y).

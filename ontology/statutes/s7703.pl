/*  s7703.pl -- §7703. Determination of marital status.

    s7703(P, S, Y)       P is married to S for taxable year Y, as defined
                         in §7703 (subsection (a), unless (b) applies).
    s7703_a(P, S, Y)     married within the meaning of subsection (a).
    s7703_a_1(P, S, Y, Day)  the day as of which marital status is
                         determined: the close of the year, or the spouse's
                         death during the year.
    s7703_a_2(P, S, Day) legally separated under a decree: not married.
    s7703_b(P, Y)        certain married individuals living apart are not
                         considered married; (b)(1)-(3) its conditions.
*/

cites(s7703/3, '§7703', 0).
cites(s7703_a/3, '§7703(a)', 0).
cites(s7703_a_1/4, '§7703(a)(1)', 0).
cites(s7703_a_2/3, '§7703(a)(2)', 0).
cites(s7703_b/2, '§7703(b)', 0).
cites(s7703_b_1/4, '§7703(b)(1)', 0).
cites(s7703_b_2/3, '§7703(b)(2)', 0).
cites(s7703_b_3/4, '§7703(b)(3)', 0).

%!  s7703(?P, ?S, +Y) P is a married individual (spouse S) for Y.
s7703(P, S, Y) :-
    s7703_a(P, S, Y),
    \+ s7703_b(P, Y).

%!  s7703_a(?P, ?S, +Y)
s7703_a(P, S, Y) :-
    s7703_a_1(P, S, Y, Day),
    married_on(P, S, Day),
    \+ s7703_a_2(P, S, Day).

%!  s7703_a_1(?P, ?S, +Y, -Day) the determination is made as of the close
%   of P's taxable year, except that if P's spouse dies during the year it
%   is made as of the time of death.  (If P himself dies during the year,
%   his taxable year closes at his death.)  "His spouse" is the one he has
%   at the close of the year: one who remarried after the death is married
%   to the new spouse, as of the close, and the one who died is no longer
%   his spouse (before, a widow who remarried in the year had two spouses,
%   and an exemption under §151(b) for the dead one).
s7703_a_1(P, S, Y, Day) :-
    year_bounds(Y, F, L),
    (   died_during(S, F, L, DS),
        married_on(P, S, DS),
        \+ ( married_on(P, S2, L), S2 \== S )
    ->  Day = DS
    ;   died_during(P, F, L, DP)
    ->  Day = DP
    ;   Day = L
    ).

%!  s7703_a_2(?P, ?S, +Day) legally separated from S under a decree of
%   divorce or of separate maintenance (by Day).
s7703_a_2(P, S, Day) :-
    decree_of_separation(P, S, Day).

%!  s7703_b(+P, +Y) P is not considered married: (1), (2) and (3) hold.
s7703_b(P, Y) :-
    s7703_a(P, S, Y),
    \+ joint_return_filed(P, S, Y),
    s7703_b_1(P, Place, _Child, Y),
    s7703_b_2(P, Place, Y),
    s7703_b_3(P, S, Place, Y).

%!  s7703_b_1(+P, ?Place, ?Child, +Y) P (married, filing separately)
%   maintains as his home a household which for more than one-half of Y is
%   the principal place of abode of a child of P for whom P is entitled to
%   a deduction under §151.
s7703_b_1(P, Place, Child, Y) :-
    year_last_day(Y, L),
    parent_of(P, Child, L),
    abode(P, Place, _, _),
    shared_abode_days(P, Child, Place, Y, Days),
    more_than_half_year(Days, Y),
    s151_c(P, Child, Y).

%!  s7703_b_2(+P, +Place, +Y) P furnishes over one-half of the cost of
%   maintaining the household during Y.
s7703_b_2(P, Place, Y) :-
    maintains_household(P, Place, Y).

%!  s7703_b_3(+P, +S, +Place, +Y) during the last 6 months of Y, P's
%   spouse S is not a member of the household.
s7703_b_3(_P, S, Place, Y) :-
    year_last_day(Y, L),
    civil_days(Y, 7, 1, F),
    \+ ( abode(S, Place, S1, E1), S1 =< L, E1 >= F ).

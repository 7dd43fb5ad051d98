/*  dates.pl -- calendar arithmetic on "YYYY-MM-DD" dates.

    Pure integer arithmetic (proleptic Gregorian calendar, day numbers
    counted from 1970-01-01 = 0).  Nothing here reads the clock or the
    machine's time zone.

    Besides the predicates the formalization uses, this file provides the
    three small calendar helpers that the SARA case files call inside their
    own fact-generating rules: first_day_year/2, last_day_year/2 and
    is_before/2.
*/

%!  date_days(+Date, -Days) is semidet.
%   Date is a "YYYY-MM-DD" string (or atom); Days its day number.
date_days(Date, Days) :-
    (   string(Date) -> S = Date
    ;   atom(Date) -> atom_string(Date, S)
    ),
    split_string(S, "-", " ", [YS, MS, DS]),
    number_string(Y, YS),
    number_string(M, MS),
    number_string(D, DS),
    integer(Y), integer(M), integer(D),
    M >= 1, M =< 12, D >= 1,
    month_days(Y, M, ML), D =< ML,
    civil_days(Y, M, D, Days).

%!  civil_days(+Y, +M, +D, -Days) is det.
%   Days from 1970-01-01 (algorithm of H. Hinnant, "days_from_civil").
civil_days(Y0, M, D, Days) :-
    ( M =< 2 -> Y is Y0 - 1 ; Y = Y0 ),
    Era is Y div 400,
    YoE is Y - Era * 400,
    ( M > 2 -> MP is M - 3 ; MP is M + 9 ),
    DoY is (153 * MP + 2) // 5 + D - 1,
    DoE is YoE * 365 + YoE // 4 - YoE // 100 + DoY,
    Days is Era * 146097 + DoE - 719468.

%!  days_civil(+Days, -Y, -M, -D) is det.
days_civil(Days, Y, M, D) :-
    Z is Days + 719468,
    Era is Z div 146097,
    DoE is Z - Era * 146097,
    YoE is (DoE - DoE // 1460 + DoE // 36524 - DoE // 146096) // 365,
    Y0 is YoE + Era * 400,
    DoY is DoE - (365 * YoE + YoE // 4 - YoE // 100),
    MP is (5 * DoY + 2) // 153,
    D is DoY - (153 * MP + 2) // 5 + 1,
    ( MP < 10 -> M is MP + 3 ; M is MP - 9 ),
    ( M =< 2 -> Y is Y0 + 1 ; Y = Y0 ).

%!  days_date(+Days, -Date:string) is det.
days_date(Days, Date) :-
    days_civil(Days, Y, M, D),
    format(string(Date), "~|~`0t~d~4+-~|~`0t~d~2+-~|~`0t~d~2+", [Y, M, D]).

leap_year(Y) :-
    (   Y mod 400 =:= 0 -> true
    ;   Y mod 100 =:= 0 -> fail
    ;   Y mod 4 =:= 0
    ).

month_days(Y, 2, N) :- !, ( leap_year(Y) -> N = 29 ; N = 28 ).
month_days(_, M, 30) :- memberchk(M, [4, 6, 9, 11]), !.
month_days(_, _, 31).

%!  year_first_day(+Year, -Days), year_last_day(+Year, -Days)
year_first_day(Y, D) :- civil_days(Y, 1, 1, D).
year_last_day(Y, D) :- civil_days(Y, 12, 31, D).

%!  year_length(+Year, -N) number of days in the calendar year.
year_length(Y, N) :- ( leap_year(Y) -> N = 366 ; N = 365 ).

%!  days_year(+Days, -Year)
days_year(Days, Y) :- days_civil(Days, Y, _, _).

%!  day_in_year(+Days, +Year)
day_in_year(Days, Y) :-
    year_first_day(Y, F), year_last_day(Y, L),
    Days >= F, Days =< L.

%!  calendar_week(+Days, -Week)
%   Index of the calendar week (Sunday to Saturday) holding the day.
%   1970-01-01 was a Thursday, so day 3 (1970-01-04) opens week 1.
calendar_week(Days, W) :- W is (Days + 4) div 7.

%!  age_on(+BirthDays, +Days, -Age) completed years of age on Days.
age_on(Birth, Days, Age) :-
    days_civil(Birth, BY, BM, BD),
    days_civil(Days, Y, M, D),
    A0 is Y - BY,
    (   (M < BM ; M =:= BM, D < BD) -> Age is A0 - 1 ; Age = A0 ).

%!  anniversary_day(+BirthDays, +Years, -Days)
%   Day on which an individual born on BirthDays attains age Years
%   (a 29 February birthday falls on 1 March in common years).
anniversary_day(Birth, N, Days) :-
    days_civil(Birth, BY, BM, BD),
    Y is BY + N,
    (   BM =:= 2, BD =:= 29, \+ leap_year(Y)
    ->  civil_days(Y, 3, 1, Days)
    ;   civil_days(Y, BM, BD, Days)
    ).

% Open-ended interval bounds (day numbers far outside any case).
neg_infinity_day(-100000000).
pos_infinity_day(100000000).

%!  interval_overlap(+S1, +E1, +S2, +E2, -S, -E) is semidet.
interval_overlap(S1, E1, S2, E2, S, E) :-
    S is max(S1, S2), E is min(E1, E2), S =< E.

%!  intervals_union_length(+Intervals, -Days)
%   Number of distinct days covered by a list of S-E (inclusive) intervals.
intervals_union_length(Is, N) :-
    msort(Is, Sorted),
    union_len(Sorted, none, 0, N).

union_len([], none, N, N) :- !.
union_len([], S-E, N0, N) :- !, N is N0 + E - S + 1.
union_len([S-E|T], none, N0, N) :- !, union_len(T, S-E, N0, N).
union_len([S-E|T], CS-CE, N0, N) :-
    (   S =< CE + 1
    ->  NE is max(E, CE), union_len(T, CS-NE, N0, N)
    ;   N1 is N0 + CE - CS + 1, union_len(T, S-E, N1, N)
    ).

%!  interval_weeks(+S, +E, -Weeks) sorted list of calendar weeks touched.
interval_weeks(S, E, Weeks) :-
    calendar_week(S, W1), calendar_week(E, W2),
    numlist(W1, W2, Weeks).

/* Helpers called by the case files' own rules ---------------------------- */

%!  first_day_year(+Year, -Date:string)
first_day_year(Year, Date) :-
    integer(Year),
    format(string(Date), "~|~`0t~d~4+-01-01", [Year]).

%!  last_day_year(+Year, -Date:string)
last_day_year(Year, Date) :-
    integer(Year),
    format(string(Date), "~|~`0t~d~4+-12-31", [Year]).

%!  is_before(+Date1, +Date2) Date1 is on or before Date2.
is_before(D1, D2) :-
    date_days(D1, N1), date_days(D2, N2), N1 =< N2.

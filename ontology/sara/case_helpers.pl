/*  Date helpers that SARA case files call from their own helper rules.

    The case files use first_day_year/2 and last_day_year/2 to generate one
    event per year, and is_before/2 in a few injected rules. The dataset
    authors' versions are not distributed; these are written from the
    description of the case format: dates are "YYYY-MM-DD" strings.
    No tax rule lives here.
*/
:- module(sara_case_helpers,
          [ first_day_year/2,
            last_day_year/2,
            is_before/2
          ]).

%!  first_day_year(?Year:integer, ?Day:string) is det.
%
%   Day is January 1st of Year, as a "YYYY-MM-DD" string.
first_day_year(Year, Day) :-
    integer(Year), !,
    format(string(Day), "~|~`0t~d~4+-01-01", [Year]).
first_day_year(Year, Day) :-
    string(Day),
    split_string(Day, "-", "", [Y, "01", "01"]),
    number_string(Year, Y).

%!  last_day_year(?Year:integer, ?Day:string) is det.
%
%   Day is December 31st of Year, as a "YYYY-MM-DD" string.
last_day_year(Year, Day) :-
    integer(Year), !,
    format(string(Day), "~|~`0t~d~4+-12-31", [Year]).
last_day_year(Year, Day) :-
    string(Day),
    split_string(Day, "-", "", [Y, "12", "31"]),
    number_string(Year, Y).

%!  is_before(+Day1, +Day2) is semidet.
%
%   Day1 is on or before Day2. ISO dates order like their text, so the
%   standard order of strings is the calendar order.
is_before(Day1, Day2) :-
    text_to_string(Day1, S1),
    text_to_string(Day2, S2),
    compare(Order, S1, S2),
    Order \== (>).

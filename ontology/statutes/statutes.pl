/*  statutes.pl -- loads the formalization of the nine SARA statute sections
    (§1, §2, §63, §68, §151, §152, §3301, §3306, §7703) and defines the
    top-level query tax/3.

    Usage:   swipl statutes.pl          then consult a case's facts and ask
             ?- tax(alice, 2017, Amount).
             ?- prove(tax(alice, 2017, A), Proof).
*/

:- set_prolog_flag(double_quotes, string).

:- ensure_loaded(dates).
:- ensure_loaded(facts).
:- ensure_loaded(core).
:- ensure_loaded(events).
:- ensure_loaded(s7703).
:- ensure_loaded(s152).
:- ensure_loaded(s151).
:- ensure_loaded(s2).
:- ensure_loaded(s68).
:- ensure_loaded(s63).
:- ensure_loaded(s1).
:- ensure_loaded(s3306).
:- ensure_loaded(s3301).
:- ensure_loaded(proof).

helper_node(tax/3, 3).
helper_node(income_tax_dollars/3, 3).
helper_node(excise_tax_dollars/3, 3).

%!  tax(+Person, +Year, ?Amount) the income tax imposed by §1 on Person for
%   Year plus the excise tax Person owes as an employer under §3301, each
%   stated in whole dollars.
tax(P, Y, A) :-
    expand_case_facts,
    income_tax_dollars(P, Y, I),
    excise_tax_dollars(P, Y, E),
    A is I + E.

%!  income_tax_dollars(+P, +Y, -D) §1 tax, rounded to the nearest dollar
%   (half a dollar rounds up).
income_tax_dollars(P, Y, D) :-
    s1(P, Y, T),
    D is round(T).

%!  excise_tax_dollars(+P, +Y, -D) §3301 tax, rounded to the nearest dollar.
excise_tax_dollars(P, Y, D) :-
    s3301(P, Y, T),
    D is round(T).

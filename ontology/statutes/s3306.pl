/*  s3306.pl -- §3306. Definitions (employer, wages, employment).

    A service is a service_ event: its agent is the employee, its patient
    the person employing him.  A payment whose purpose_ is the service is
    remuneration for it (see remuneration_item/6).  Services fall into three
    categories (service_category/2): agricultural labor, domestic service
    in a private home (or local college club, fraternity or sorority
    chapter), and other service.

    s3306_a(E, Y, Category)   E is an employer for Y with respect to
                              services of Category: (a)(1) other,
                              (a)(2) agricultural, (a)(3) domestic.
    s3306_b(E, Y, Category, Wages)
                              wages paid by E during Y for services of
                              Category: remuneration for employment, less
                              (b)(2), (7), (10), (11), (15), capped per
                              employee at $7,000 by (b)(1).
    s3306_c(S, Y)             service S is employment (remuneration paid
                              in calendar year Y): (A) or (B), and none of
                              the exceptions (1)-(21).
*/

cites(s3306_a/3, '§3306(a)', 0).
cites(s3306_a_1/2, '§3306(a)(1)', 0).
cites(s3306_a_1_A/2, '§3306(a)(1)(A)', 0).
cites(s3306_a_1_B/2, '§3306(a)(1)(B)', 0).
cites(s3306_a_2/2, '§3306(a)(2)', 0).
cites(s3306_a_2_A/2, '§3306(a)(2)(A)', 0).
cites(s3306_a_2_B/2, '§3306(a)(2)(B)', 0).
cites(s3306_a_3/2, '§3306(a)(3)', 0).
cites(s3306_a_4/2, '§3306(a)(4)', 0).
cites(s3306_b/4, '§3306(b)', 4).
cites(s3306_b__remuneration/7, '§3306(b)', 7).
cites(s3306_b_1/5, '§3306(b)(1)', 5).
cites(s3306_b_1/4, '§3306(b)(1)', 0).
cites(s3306_b_1__cash/5, '§3306(b)(1)', 5).
cites(s3306_b__cash_wages/4, '§3306(b)', 4).
combines(s3306_b/4, same).
combines(s3306_b__cash_wages/4, same).
cites(s3306_b_2/1, '§3306(b)(2)', 0).
cites(s3306_b_2_A/2, '§3306(b)(2)(A)', 0).
cites(s3306_b_2_C/2, '§3306(b)(2)(C)', 0).
cites(s3306_b_7/3, '§3306(b)(7)', 0).
cites(s3306_b_10/3, '§3306(b)(10)', 0).
cites(s3306_b_10_A/3, '§3306(b)(10)(A)', 0).
cites(s3306_b_10_A_i/3, '§3306(b)(10)(A)(i)', 0).
cites(s3306_b_10_A_ii/3, '§3306(b)(10)(A)(ii)', 0).
cites(s3306_b_10_B/2, '§3306(b)(10)(B)', 0).
cites(s3306_b_11/2, '§3306(b)(11)', 0).
cites(s3306_b_15/3, '§3306(b)(15)', 0).
cites(s3306_b_15/4, '§3306(b)(15)', 0).
cites(s3306_c/2, '§3306(c)', 0).
cites(s3306_c_A/1, '§3306(c)(A)', 0).
cites(s3306_c_B/1, '§3306(c)(B)', 0).
cites(s3306_c_1/2, '§3306(c)(1)', 0).
cites(s3306_c_1_A/2, '§3306(c)(1)(A)', 0).
cites(s3306_c_1_A_i/2, '§3306(c)(1)(A)(i)', 0).
cites(s3306_c_1_A_ii/2, '§3306(c)(1)(A)(ii)', 0).
cites(s3306_c_1_B/1, '§3306(c)(1)(B)', 0).
cites(s3306_c_2/2, '§3306(c)(2)', 0).
cites(s3306_c_5/1, '§3306(c)(5)', 0).
cites(s3306_c_6/1, '§3306(c)(6)', 0).
cites(s3306_c_7/1, '§3306(c)(7)', 0).
cites(s3306_c_10/1, '§3306(c)(10)', 0).
cites(s3306_c_10_A/1, '§3306(c)(10)(A)', 0).
cites(s3306_c_10_A_i/4, '§3306(c)(10)(A)(i)', 0).
cites(s3306_c_10_A_ii/4, '§3306(c)(10)(A)(ii)', 0).
date_arg(s3306_c_10_A_i/4, 3).
date_arg(s3306_c_10_A_i/4, 4).
date_arg(s3306_c_10_A_ii/4, 3).
date_arg(s3306_c_10_A_ii/4, 4).
cites(s3306_c_10_B/1, '§3306(c)(10)(B)', 0).
cites(s3306_c_11/1, '§3306(c)(11)', 0).
cites(s3306_c_13/1, '§3306(c)(13)', 0).
cites(s3306_c_16/1, '§3306(c)(16)', 0).
cites(s3306_c_21/1, '§3306(c)(21)', 0).

% Employment status, wages and the employer tests are tabled: they are
% asked about many times (for each service, employee, category and year).
% The tables are dropped whenever the case facts change (facts.pl).
:- table s3306_c/2, s3306_c_1_A/2, s3306_c_2/2, s3306_b_1/5, s3306_b_1__cash/5,
         s3306_a_1/2, s3306_a_2/2, s3306_a_3/2.

/* (a) Employer ------------------------------------------------------------ */

%!  s3306_a(+E, +Y, ?Category)
s3306_a(E, Y, other) :- s3306_a_1(E, Y).
s3306_a(E, Y, agricultural) :- s3306_a_2(E, Y).
s3306_a(E, Y, domestic) :- s3306_a_3(E, Y).

%!  s3306_a_1(+E, +Y) in general (wages paid to, and employment of,
%   employees performing domestic service are not taken into account).
s3306_a_1(E, Y) :-
    (   s3306_a_1_A(E, Y) -> true ; s3306_a_1_B(E, Y) ).

%!  s3306_a_1_A(+E, +Y) during Y or Y-1 E paid wages of $1,500 or more.
s3306_a_1_A(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        s3306_b(E, Z, other, W1),
        s3306_b(E, Z, agricultural, W2),
        W1 + W2 >= 1500
    )).

%!  s3306_a_1_B(+E, +Y) on each of some 10 days during Y or during Y-1,
%   each day in a different calendar week, E employed at least one
%   individual in employment for some portion of the day.
s3306_a_1_B(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        employment_weeks(E, Z, [other, agricultural], 1, Weeks),
        Weeks >= 10
    )).

%!  s3306_a_2(+E, +Y) agricultural labor.
s3306_a_2(E, Y) :-
    (   s3306_a_2_A(E, Y) -> true ; s3306_a_2_B(E, Y) ).

%!  s3306_a_2_A(+E, +Y) during Y or Y-1 E paid wages of $20,000 or more for
%   agricultural labor.
s3306_a_2_A(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        s3306_b(E, Z, agricultural, W),
        W >= 20000
    )).

%!  s3306_a_2_B(+E, +Y) on each of some 10 days during Y or Y-1, each in a
%   different calendar week, E employed at least 5 individuals in
%   employment in agricultural labor for some portion of the day.
s3306_a_2_B(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        employment_weeks(E, Z, [agricultural], 5, Weeks),
        Weeks >= 10
    )).

%!  s3306_a_3(+E, +Y) domestic service: during Y or Y-1 E paid wages in
%   cash of $1,000 or more for such service.
s3306_a_3(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        s3306_b__cash_wages(E, Z, domestic, W),
        W >= 1000
    )).

%!  s3306_a_4(+E, +Y) the special rule reaches E: an employer under (3)
%   who is no employer under (1) or (2), so is not treated as an employer
%   for wages paid for any other service (s3306_a/3 taxes a category only
%   where E is its employer).  Fails where E is no domestic employer, or
%   is an employer under (1) or (2) as well.
s3306_a_4(E, Y) :-
    s3306_a_3(E, Y),
    \+ s3306_a_1(E, Y),
    \+ s3306_a_2(E, Y).

helper_node(employment_weeks/5, 5).
value_unit(employment_weeks/5, weeks).
%!  employment_weeks(+E, +Year, +Categories, +MinIndividuals, -Weeks)
%   number of distinct calendar weeks containing a day of Year on which E
%   employed at least MinIndividuals individuals in employment (services
%   of the given categories) for some portion of the day.
employment_weeks(E, Z, Cats, Min, Weeks) :-
    set_of(Emp-S1-E1,
           ( member(Cat, Cats),
             s3306_c__employment(E, Z, Cat, Emp, _S, S1, E1) ),
           Spans),
    busy_weeks(Spans, Min, Weeks).

helper_node(s3306_c__employment/7, 0).
date_arg(s3306_c__employment/7, 6).
date_arg(s3306_c__employment/7, 7).
%!  s3306_c__employment(+E, +Z, +Cat, ?Emp, ?S, -From, -To) S, a service of
%   category Cat that Emp performs for E, is employment (subsection (c));
%   [From, To] is its part within the calendar year Z.
s3306_c__employment(E, Z, Cat, Emp, S, S1, E1) :-
    year_bounds(Z, F, L),
    service_for(S, E, Emp),
    service_category(S, Cat),
    s3306_c(S, Z),
    service_period(S, S0, E0),
    interval_overlap(S0, E0, F, L, S1, E1).

%!  busy_weeks(+Spans, +Min, -Weeks) technical.
busy_weeks([], _, 0) :- !.
busy_weeks(Spans, 1, N) :- !,
    findall(W, ( member(_-S-E, Spans), interval_weeks(S, E, Ws), member(W, Ws) ), L),
    sort(L, Set), length(Set, N).
busy_weeks(Spans, Min, N) :-
    findall(D-Emp, ( member(Emp-S-E, Spans), between(S, E, D) ), L0),
    sort(L0, L),
    group_pairs_by_key(L, Groups),
    findall(W, ( member(D-Emps, Groups), length(Emps, K), K >= Min,
                 calendar_week(D, W) ), Ws),
    sort(Ws, Set), length(Set, N).

/* (b) Wages ---------------------------------------------------------------- */

%!  s3306_b(+E, +Y, +Category, -Wages) wages paid by E during Y with
%   respect to employment in services of Category.
s3306_b(E, Y, Cat, Wages) :-
    sum_of(Emp-W,
           ( s3306_b__employee(E, Y, Emp),
             s3306_b_1(E, Emp, Y, Cat, W) ),
           Wages).

%!  s3306_b__cash_wages(+E, +Y, +Category, -Wages) the part of those wages
%   paid in cash.
s3306_b__cash_wages(E, Y, Cat, Wages) :-
    sum_of(Emp-W,
           ( s3306_b__employee(E, Y, Emp),
             s3306_b_1__cash(E, Emp, Y, Cat, W) ),
           Wages).

helper_node(s3306_b__employee/3, 0).
%!  s3306_b__employee(+E, +Y, -Emp) individuals E remunerated in Y
%   for employment (remuneration not excluded by (b)(2)-(15)).
s3306_b__employee(E, Y, Emp) :-
    set_of(Emp0, s3306_b__remuneration(_, _, E, Emp0, Y, _, _), Emps),
    member(Emp, Emps).

%!  category_wages(+Alloc, +Cat, -W) technical.
category_wages(Alloc, Cat, W) :-
    findall(A, member(alloc(_, Cat, A), Alloc), As),
    sum_exact(As, W).

%!  category_cash_wages(+Alloc, +Cat, -W) technical.
category_cash_wages(Alloc, Cat, W) :-
    findall(A, ( member(alloc(Pay, Cat, A), Alloc), cash_payment(Pay) ), As),
    sum_exact(As, W).

%!  s3306_b__remuneration(?Pay, ?S, +E, ?Emp, +Y, -Day, -Amount)
%   remuneration paid by E during Y for employment S of Emp, not excluded
%   by paragraphs (2) to (15) of subsection (b).
s3306_b__remuneration(Pay, S, E, Emp, Y, Day, A) :-
    remuneration_item(Pay, S, E, Emp, Day, A),
    days_year(Day, Y),
    s3306_c(S, Y),
    \+ s3306_b_2(Pay),
    \+ s3306_b_7(Pay, S, E),
    \+ s3306_b_10(Pay, S, Emp),
    \+ s3306_b_11(Pay, S),
    \+ s3306_b_15(Pay, Emp, Day).

%!  s3306_b_1(+E, +Emp, +Y, +Category, -Wages) remuneration paid to Emp by
%   E during Y counts as wages until $7,000 has been paid (in order of
%   payment); the part paid after that is not wages.  Wages: the wages so
%   determined for services of Category.
s3306_b_1(E, Emp, Y, Cat, W) :-
    set_of(Day-Pay-S-A, s3306_b__remuneration(Pay, S, E, Emp, Y, Day, A), Items),
    allocate_wage_base(Items, 7000, Alloc),
    category_wages(Alloc, Cat, W).

%!  s3306_b_1(?Pay, ?S, ?E, ?Emp) paragraph (1) applies to the payment Pay
%   E made to Emp for employment S: part of it is paid after remuneration of
%   $7,000 has been paid to Emp by E during that calendar year, and that part
%   is not wages.  (A question about one payment: without this node, one
%   would be placed into the positions of s3306_b_1/5, an employer's.)
s3306_b_1(Pay, S, E, Emp) :-
    s3306_b__remuneration(Pay, S, E, Emp, Y, _, A),
    set_of(Day-P-S1-A1, s3306_b__remuneration(P, S1, E, Emp, Y, Day, A1), Items),
    allocate_wage_base(Items, 7000, Alloc),
    memberchk(alloc(Pay, _, W), Alloc),
    W < A.

%!  s3306_b_1__cash(+E, +Emp, +Y, +Category, -Wages) same, counting only
%   the wages paid in cash.
s3306_b_1__cash(E, Emp, Y, Cat, W) :-
    set_of(Day-Pay-S-A, s3306_b__remuneration(Pay, S, E, Emp, Y, Day, A), Items),
    allocate_wage_base(Items, 7000, Alloc),
    category_cash_wages(Alloc, Cat, W).

%!  allocate_wage_base(+Items, +Remaining, -Alloc) technical.
allocate_wage_base([], _, []).
allocate_wage_base([_Day-Pay-S-A|T], R0, [alloc(Pay, Cat, W)|Alloc]) :-
    service_category(S, Cat),
    W is max(0, min(A, R0)),
    R is R0 - W,
    allocate_wage_base(T, R, Alloc).

%!  s3306_b_2(+Pay) payment under a plan established by the employer on
%   account of (A) sickness or accident disability or (C) death.
s3306_b_2(Pay) :-
    payment_plan(Pay, Plan),
    (   s3306_b_2_A(Pay, Plan) -> true ; s3306_b_2_C(Pay, Plan) ).

helper_node(payment_plan/2, 0).
%!  payment_plan(+Pay, -Plan) Pay is made into or through a plan.
payment_plan(Pay, Plan) :-
    (   patient_(Pay, Plan) ; means_(Pay, Plan) ; beneficiary_(Pay, Plan) ),
    plan_(Plan).

%!  plan_purpose(+Pay, +Plan, +Text) the payment or the plan is on account
%   of Text (technical).
plan_purpose(Pay, Plan, Text) :-
    (   purpose_(Pay, D) ; purpose_(Plan, D) ),
    ( string(D) ; atom(D) ),
    text_contains(D, Text), !.

%   (A) and (C) are about a payment into or through the plan (already so
%   when reached from (b)(2); a question may name only one of the two).
s3306_b_2_A(Pay, Plan) :-
    payment_plan(Pay, Plan),
    once((
        (   plan_purpose(Pay, Plan, "sickness")
        ;   plan_purpose(Pay, Plan, "accident")
        ;   plan_purpose(Pay, Plan, "disabilit")
        )
    )).
s3306_b_2_C(Pay, Plan) :-
    payment_plan(Pay, Plan),
    plan_purpose(Pay, Plan, "death").

%!  s3306_b_7(+Pay, +S, +E) remuneration paid in any medium other than cash
%   for service not in the course of the employer's trade or business.
s3306_b_7(Pay, S, E) :-
    \+ cash_payment(Pay),
    \+ in_course_of_business(S, E).

helper_node(in_course_of_business/2, 0).
%!  in_course_of_business(+S, +E) E carries on a business_ and S is part
%   of it: S names the business as purpose, or has the business's type, or
%   states no type of its own.
in_course_of_business(S, E) :-
    business_(B), agent_(B, E),
    (   purpose_(S, B)
    ->  true
    ;   type_(S, T1)
    ->  type_(B, T2), text_lower(T1, X), text_lower(T2, X)
    ;   true
    ).

%!  s3306_b_10(+Pay, +S, +Emp) (A) paid upon or after the termination of
%   the employment relationship because of death or retirement for
%   disability, and (B) under a plan established by the employer.
s3306_b_10(Pay, S, Emp) :-
    s3306_b_10_A(Pay, S, Emp),
    s3306_b_10_B(Pay, S).

%!  s3306_b_10_A(+Pay, +S, +Emp) paid upon or after the termination of the
%   employment relationship because of (i) death or (ii) retirement for
%   disability.
s3306_b_10_A(Pay, S, Emp) :-
    (   s3306_b_10_A_i(Pay, S, Emp)
    ->  true
    ;   s3306_b_10_A_ii(Pay, S, Emp)
    ).

%!  s3306_b_10_A_i(+Pay, +S, +Emp) (i) because of death: paid on or after
%   the day Emp died, or a termination of S for death.
s3306_b_10_A_i(Pay, S, Emp) :-
    once((
        event_date(Pay, PD), date_days(PD, PayDay),
        (   died_on(Emp, D)
        ;   termination_for(S, death, D)
        ),
        PayDay >= D
    )).

%!  s3306_b_10_A_ii(+Pay, +S, +Emp) (ii) because of retirement for
%   disability: a retirement of Emp for disability, or a termination of S
%   for it, on or before the payment's day.
s3306_b_10_A_ii(Pay, S, Emp) :-
    once((
        event_date(Pay, PD), date_days(PD, PayDay),
        (   retirement_(R), subject_of(R, Emp), reason_(R, Why),
            ( string(Why) ; atom(Why) ), text_contains(Why, "disabilit"),
            start_(R, RD), date_days(RD, D)
        ;   termination_for(S, disability, D)
        ),
        PayDay >= D
    )).

helper_node(termination_for/3, 0).
%!  termination_for(+S, +Reason, -Day) a termination of service S whose
%   reason is death or disability (a typed event or a text), on Day (the
%   service's last day when the termination has no date).
termination_for(S, Reason, D) :-
    termination_(Tm), patient_(Tm, S), reason_(Tm, Why),
    (   Reason == death
    ->  ( death_(Why) ; ( string(Why) ; atom(Why) ), text_contains(Why, "death") )
    ;   ( disability_(Why) ; ( string(Why) ; atom(Why) ), text_contains(Why, "disabilit") )
    ),
    ( start_(Tm, TD) -> date_days(TD, D) ; service_period(S, _, D) ).

s3306_b_10_B(Pay, S) :-
    once((
        service_for(S, E, _),
        payment_plan(Pay, Plan),
        ( agent_(Plan, _) -> agent_(Plan, E) ; true )
    )).

%!  s3306_b_11(+Pay, +S) remuneration for agricultural labor paid in any
%   medium other than cash.
s3306_b_11(Pay, S) :-
    agricultural_labor(S),
    \+ cash_payment(Pay).

%!  s3306_b_15(+Pay, +Emp, +Day) payment to a survivor or the estate of a
%   former employee after the calendar year in which the employee died.
s3306_b_15(Pay, Emp, Day) :-
    patient_(Pay, R), R \== Emp,
    died_on(Emp, D),
    days_year(D, YD), days_year(Day, YP),
    YP > YD.

%!  s3306_b_15(?Pay, ?S, ?E, ?R) the same, asked about the payment Pay that E
%   made to R for service S of the former employee (the payment, the service,
%   the employer and the payee, as a question about one payment names them).
s3306_b_15(Pay, S, E, R) :-
    remuneration_item(Pay, S, E, Emp, Day, _),
    patient_(Pay, R),
    s3306_b_15(Pay, Emp, Day).

/* (c) Employment ----------------------------------------------------------- */

%!  s3306_c(+S, +Y) service S is employment (Y: the calendar year whose
%   thresholds the exceptions look at).
s3306_c(S, Y) :-
    service_for(S, _, _),
    (   s3306_c_A(S) -> true ; s3306_c_B(S) ),
    \+ s3306_c_1(S, Y),
    \+ s3306_c_2(S, Y),
    \+ s3306_c_5(S),
    \+ s3306_c_6(S),
    \+ s3306_c_7(S),
    \+ s3306_c_10(S),
    \+ s3306_c_11(S),
    \+ s3306_c_13(S),
    \+ s3306_c_16(S),
    \+ s3306_c_21(S).

%!  s3306_c_A(+S) performed by an employee for the person employing him,
%   within the United States (irrespective of citizenship or residence).
s3306_c_A(S) :-
    service_for(S, _, _),
    \+ outside_united_states(S).

%!  s3306_c_B(+S) performed outside the United States (except in a
%   contiguous country with which the United States has an unemployment
%   compensation agreement) by a citizen of the United States as an
%   employee of an American employer.
s3306_c_B(S) :-
    service_for(S, E, Emp),
    outside_united_states(S),
    \+ contiguous_country_with_agreement(S),
    service_period(S, F, T),
    us_citizen_during(Emp, F, T),
    american_employer(E).

%!  s3306_c_1(+S, +Y) agricultural labor, unless (A) and (B).
s3306_c_1(S, Y) :-
    agricultural_labor(S),
    service_for(S, E, _),
    \+ ( s3306_c_1_A(E, Y), s3306_c_1_B(S) ).

s3306_c_1_A(E, Y) :-
    (   s3306_c_1_A_i(E, Y) -> true ; s3306_c_1_A_ii(E, Y) ).

%!  s3306_c_1_A_i(+E, +Y) during Y or Y-1, E paid remuneration in cash of
%   $20,000 or more to individuals employed in agricultural labor.
s3306_c_1_A_i(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        sum_of((Pay-Day)-A,     % each day a recurring payment is paid
               ( remuneration_item(Pay, S, E, _, Day, A),
                 days_year(Day, Z),
                 agricultural_labor(S),
                 cash_payment(Pay) ),
               Cash),
        Cash >= 20000
    )).

%!  s3306_c_1_A_ii(+E, +Y) on each of some 10 days during Y or Y-1, each in
%   a different calendar week, E employed in agricultural labor 5 or more
%   individuals for some portion of the day.
s3306_c_1_A_ii(E, Y) :-
    once((
        Y0 is Y - 1,
        member(Z, [Y, Y0]),
        agricultural_weeks(E, Z, 5, Weeks),
        Weeks >= 10
    )).

helper_node(agricultural_weeks/4, 4).
value_unit(agricultural_weeks/4, weeks).
%!  agricultural_weeks(+E, +Year, +Min, -Weeks) like employment_weeks/5,
%   counting every individual employed in agricultural labor.
agricultural_weeks(E, Z, Min, Weeks) :-
    year_bounds(Z, F, L),
    findall(Emp-S1-E1,
            ( service_for(S, E, Emp),
              agricultural_labor(S),
              service_period(S, S0, E0),
              interval_overlap(S0, E0, F, L, S1, E1) ),
            Spans),
    busy_weeks(Spans, Min, Weeks).

%!  s3306_c_1_B(+S) the labor is not performed by an alien admitted to the
%   United States to perform agricultural labor (a migration_ of the
%   worker whose purpose is agricultural labor).
s3306_c_1_B(S) :-
    service_for(S, _, Emp),
    \+ ( migration_(M), agent_(M, Emp), purpose_(M, P),
         ( string(P) ; atom(P) ), text_contains(P, "agricultur") ).

%!  s3306_c_2(+S, +Y) domestic service in a private home, local college club
%   or local chapter of a college fraternity or sorority, unless performed
%   for a person who paid cash remuneration of $1,000 or more to
%   individuals employed in such domestic service in Y or Y-1.
s3306_c_2(S, Y) :-
    domestic_service_in_private_home(S),
    service_for(S, E, _),
    Y0 is Y - 1,
    \+ ( member(Z, [Y, Y0]),
         sum_of((Pay-Day)-A,    % each day a recurring payment is paid
                ( remuneration_item(Pay, S2, E, _, Day, A),
                  days_year(Day, Z),
                  domestic_service_in_private_home(S2),
                  cash_payment(Pay) ),
                Cash),
         Cash >= 1000 ).

%!  s3306_c_5(+S) service by an individual in the employ of his son,
%   daughter, or spouse, or by a child under 21 in the employ of his father
%   or mother.
s3306_c_5(S) :-
    once((
        service_for(S, E, Emp),
        service_day(S, Day),
        (   parent_of(Emp, E, Day)
        ;   married_on(Emp, E, Day)
        ;   parent_of(E, Emp, Day),
            \+ attained_age_by(Emp, 21, Day),
            born_on(Emp, _)
        )
    )).

%!  service_day(+S, -Day) technical: a representative day of the service
%   (its first day, or its last if it has no start).
service_day(S, Day) :-
    service_period(S, F, T),
    neg_infinity_day(NI),
    ( F =:= NI -> Day = T ; Day = F ),
    !.

%!  s3306_c_6(+S) service in the employ of the United States Government.
s3306_c_6(S) :-
    service_for(S, E, _), entity_is(E, united_states_government).

%!  s3306_c_7(+S) service in the employ of a State or political subdivision.
s3306_c_7(S) :-
    service_for(S, E, _), entity_is(E, state_government).

%!  s3306_c_10(+S) (A) or (B): service for a school by a student or a
%   student's spouse, or for a hospital by a patient of it.
s3306_c_10(S) :-
    (   s3306_c_10_A(S)
    ->  true
    ;   s3306_c_10_B(S)
    ).

%!  s3306_c_10_A(+S) service in the employ of a school, college or
%   university by (i) a student enrolled and regularly attending classes
%   there, or (ii) the spouse of such a student.
s3306_c_10_A(S) :-
    service_for(S, E, Emp),
    entity_is(E, educational_institution),
    service_period(S, F, T),
    (   s3306_c_10_A_i(Emp, E, F, T)
    ->  true
    ;   s3306_c_10_A_ii(Emp, E, F, T)
    ).

%!  s3306_c_10_A_i(?Emp, +School, +From, +To) Emp is a student of School
%   (enrolled, regularly attending classes) over the service's days.
s3306_c_10_A_i(Emp, School, F, T) :-
    student_at(Emp, School, F, T).

%!  s3306_c_10_A_ii(?Emp, +School, +From, +To) Emp is the spouse of such a
%   student over those days.
s3306_c_10_A_ii(Emp, School, F, T) :-
    married_during(Emp, Student, F, T),
    student_at(Student, School, F, T).

helper_node(student_at/4, 0).
%!  student_at(?X, +School, +From, +To) X is enrolled at and regularly
%   attending classes at School during [From, To].
student_at(X, School, F, T) :-
    enrollment_(En), agent_(En, X), patient_(En, School),
    ev_during(En, F, T),
    attending_classes_(C), agent_(C, X),
    ( location_(C, School) ; patient_(C, School) ),
    ev_during(C, F, T).

%!  s3306_c_10_B(+S) service in the employ of a hospital by a patient of
%   the hospital.
s3306_c_10_B(S) :-
    service_for(S, E, Emp),
    entity_is(E, hospital),
    service_period(S, F, T),
    medical_patient_(M), agent_(M, Emp), patient_(M, E),
    ev_during(M, F, T).

%!  s3306_c_11(+S) service in the employ of a foreign government.
s3306_c_11(S) :-
    service_for(S, E, _), entity_is(E, foreign_government).

%!  s3306_c_13(+S) service as a student nurse in the employ of a hospital
%   or nurses' training school by an individual enrolled and regularly
%   attending classes in a nurses' training school.
s3306_c_13(S) :-
    service_for(S, E, Emp),
    ( entity_is(E, hospital) ; entity_is(E, nurses_training_school) ),
    service_period(S, F, T),
    entity_is(School, nurses_training_school),
    student_at(Emp, School, F, T).

%!  s3306_c_16(+S) service in the employ of an international organization.
s3306_c_16(S) :-
    service_for(S, E, _), entity_is(E, international_organization).

%!  s3306_c_21(+S) service performed by a person committed to a penal
%   institution.
s3306_c_21(S) :-
    service_for(S, _, Emp),
    service_period(S, F, T),
    incarceration_(I), agent_(I, Emp), patient_(I, Inst),
    entity_is(Inst, penal_institution),
    ev_during(I, F, T).

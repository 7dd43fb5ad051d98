% Text
% Uma earned $52000 in 2017. Vera, who had no income in 2017, bears a relationship to Uma
% described in section 152(d)(2)(C) (the case states it; no kinship fact says how).
% By hand: the stated conclusion gives (d)(1)(A); Vera has no income ((d)(1)(B)) and is nobody's
% qualifying child ((d)(1)(D)): a qualifying relative of Uma (§152(d)). No training case states
% or asks about (d)(2)(C) or (d) itself: both are placed by kind, and the stated conclusion is an
% assumption about our node (before, it matched nothing and the answer was Contradiction).

% Question
% Vera is a qualifying relative of Uma under section 152(d) for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
payment_(uma_salary).
patient_(uma_salary,uma).
amount_(uma_salary,52000).
start_(uma_salary,"2017-12-31").
s152_d_2_C(vera,uma,2017).

% Test
:- s152_d(vera,uma,2017).
:- halt.

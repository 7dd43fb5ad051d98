% Text
% Sven has never married. His friend Tomas, who is not related to him and has no income, has
% lived in Sven's house on Elm Court since 2014, and Sven pays all of the house's costs
% ($12,000 in 2017). Sven's salary for 2017 was $50,000; he takes the standard deduction.
% By hand: Tomas is Sven's qualifying relative only by §152(d)(2)(H) (same abode and member of
% the household all year, no income, nobody's qualifying child): a dependent, so a §151(c)
% exemption. But §2(b)(3)(B): Sven is no head of household by reason of an individual who would
% not be a dependent but for (H). So §1(c): $50,000 - $3,000 - 2 x $2,000 = $43,000;
% §1(c)(ii): $3,315 + 28% of $20,900 = $9,167.

% Question
% How much tax does Sven owe for 2017? $9167

% Facts
:- [statutes/prolog/init].
residence_(elm_court_home).
agent_(elm_court_home,sven).
agent_(elm_court_home,tomas).
patient_(elm_court_home,elm_court_house).
start_(elm_court_home,"2014-01-01").
payment_(sven_house_costs).
agent_(sven_house_costs,sven).
purpose_(sven_house_costs,elm_court_house).
amount_(sven_house_costs,12000).
start_(sven_house_costs,"2017-12-01").
payment_(sven_salary).
agent_(sven_salary,sven_employer).
patient_(sven_salary,sven).
amount_(sven_salary,50000).
start_(sven_salary,"2017-12-31").

% Test
:- tax(sven,2017,9167).
:- halt.

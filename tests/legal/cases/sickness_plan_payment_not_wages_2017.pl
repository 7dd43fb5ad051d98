% Text
% Ida has never married and runs a bakery. Jon worked there all of 2017; Ida paid him $6000 in
% cash on December 29th, 2017, and paid $3000 into a health insurance fund her bakery keeps for
% its employees in case of sickness, for Jon. Ida was paid $50000 in 2017 and takes the standard
% deduction.
% By hand: the $3,000 is a payment under a plan for employees generally on account of sickness:
% not wages (§3306(b)(2)(A)). Wages $6,000; Ida is an employer (§3306(a)(1)(A)); excise tax 6% of
% $6,000 = $360. Income tax: $50,000 - $3,000 - $2,000 = $45,000: §1(c)(ii), $3,315 + 28% of
% $22,900 = $9,727. Total $10,087.

% Question
% How much tax does ida have to pay in 2017? $10087

% Facts
:- [statutes/prolog/init].
business_(idas_bakery).
agent_(idas_bakery,ida).
service_(jon_bakes).
agent_(jon_bakes,jon).
patient_(jon_bakes,ida).
location_(jon_bakes,idas_bakery).
start_(jon_bakes,"2017-01-02").
end_(jon_bakes,"2017-12-29").
payment_(ida_pays_jon).
agent_(ida_pays_jon,ida).
patient_(ida_pays_jon,jon).
purpose_(ida_pays_jon,jon_bakes).
means_(ida_pays_jon,"cash").
amount_(ida_pays_jon,6000).
start_(ida_pays_jon,"2017-12-29").
plan_(bakery_health_fund).
payment_(ida_pays_fund).
agent_(ida_pays_fund,ida).
patient_(ida_pays_fund,bakery_health_fund).
purpose_(ida_pays_fund,"make provisions for employees in case of sickness").
beneficiary_(ida_pays_fund,jon).
amount_(ida_pays_fund,3000).
start_(ida_pays_fund,"2017-12-29").
payment_(ida_paid).
patient_(ida_paid,ida).
amount_(ida_paid,50000).
start_(ida_paid,"2017-12-31").

% Test
:- tax(ida,2017,10087).
:- halt.

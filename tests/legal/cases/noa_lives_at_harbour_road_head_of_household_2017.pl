% Text
% Noa has never been married. She lives at 4 Harbour Road with her daughter Mia, born
% 2009-04-04, and has since Mia's birth; the stays are stated by where they take place. Noa
% pays all the costs of the home ($8,000 in 2017) and earned $40,000 in 2017. She takes the
% standard deduction.
% By hand: Mia (8) shares Noa's abode all year and is her qualifying child and dependent; Noa
% maintains the household, so she is a head of household (§2(b)(1)(A)(i)). Standard deduction
% $4,400, exemptions $4,000: taxable income $31,600; §1(b)(ii): $4,440 + 28% of $2,000 =
% $5,000.

% Question
% How much tax does Noa have to pay in 2017? $5000

% Facts
:- [statutes/prolog/init].
daughter_(mia_daughter).
agent_(mia_daughter,mia).
patient_(mia_daughter,noa).
start_(mia_daughter,"2009-04-04").
birth_(mia_born).
agent_(mia_born,mia).
start_(mia_born,"2009-04-04").
residence_(noa_stay).
agent_(noa_stay,noa).
location_(noa_stay,harbour_road_4).
start_(noa_stay,"2009-04-04").
residence_(mia_stay).
agent_(mia_stay,mia).
location_(mia_stay,harbour_road_4).
start_(mia_stay,"2009-04-04").
payment_(noa_home_costs).
agent_(noa_home_costs,noa).
purpose_(noa_home_costs,harbour_road_4).
amount_(noa_home_costs,8000).
start_(noa_home_costs,"2017-06-01").
income_(noa_wages).
agent_(noa_wages,noa).
amount_(noa_wages,40000).
start_(noa_wages,"2017-12-31").

% Test
:- tax(noa,2017,5000).
:- halt.

% Text
% Cleo has never married. She lives in a house with her son Dax, born September 9th, 2009, and
% her mother Eva. In 2017 Cleo and Eva each paid $8000 towards the costs of the house. Eva
% received a pension of $20000 in 2017; Dax has no income. Cleo was paid $50000 in 2017 and takes
% the standard deduction.
% By hand: Cleo furnishes exactly half of the cost of the household, not over half: she does not
% maintain it (§2(b)(1), last sentence), so she is not a head of household. §1(c). Dax is her
% qualifying child: exemptions $4,000 (Eva has income). $50,000 - $3,000 - $4,000 = $43,000:
% §1(c)(ii), $3,315 + 28% of $20,900 = $9,167.

% Question
% How much tax does cleo have to pay in 2017? $9167

% Facts
:- [statutes/prolog/init].
son_(dax_is_cleos_son).
agent_(dax_is_cleos_son,dax).
patient_(dax_is_cleos_son,cleo).
mother_(eva_is_cleos_mother).
agent_(eva_is_cleos_mother,eva).
patient_(eva_is_cleos_mother,cleo).
birth_(dax_born).
agent_(dax_born,dax).
start_(dax_born,"2009-09-09").
residence_(cleo_home).
agent_(cleo_home,cleo).
patient_(cleo_home,the_house).
start_(cleo_home,"2008-01-01").
residence_(dax_home).
agent_(dax_home,dax).
patient_(dax_home,the_house).
start_(dax_home,"2009-09-09").
residence_(eva_home).
agent_(eva_home,eva).
patient_(eva_home,the_house).
start_(eva_home,"2008-01-01").
payment_(cleo_pays_costs).
agent_(cleo_pays_costs,cleo).
purpose_(cleo_pays_costs,the_house).
amount_(cleo_pays_costs,8000).
start_(cleo_pays_costs,"2017-06-30").
payment_(eva_pays_costs).
agent_(eva_pays_costs,eva).
purpose_(eva_pays_costs,the_house).
amount_(eva_pays_costs,8000).
start_(eva_pays_costs,"2017-06-30").
payment_(eva_pension).
patient_(eva_pension,eva).
amount_(eva_pension,20000).
start_(eva_pension,"2017-12-31").
payment_(cleo_paid).
patient_(cleo_paid,cleo).
amount_(cleo_paid,50000).
start_(cleo_paid,"2017-12-31").

% Test
:- tax(cleo,2017,9167).
:- halt.

% Text
% Ivan, single and childless, has a sister, Kira, who earned $25,000 in 2017. Kira's son Jonas was
% born on 1987-11-11, lives on his own and had no income in 2017. Ivan earned $40,000 in 2017
% and takes the standard deduction.
% By hand: Jonas, a son of Ivan's sister (§152(d)(2)(E)) with no income, is too old to be
% anybody's qualifying child (§152(c)(3)): he is Ivan's qualifying relative, so Ivan has two
% exemptions. No household: not a head of household. Standard deduction $3,000, taxable income
% $40,000 - $3,000 - $4,000 = $33,000; §1(c)(ii): $3,315 + 28% of $10,900 = $6,367.

% Question
% How much tax does Ivan have to pay in 2017? $6367

% Facts
:- [statutes/prolog/init].
sister_(kira_sister_of_ivan).
agent_(kira_sister_of_ivan,kira).
patient_(kira_sister_of_ivan,ivan).
son_(jonas_son_of_kira).
agent_(jonas_son_of_kira,jonas).
patient_(jonas_son_of_kira,kira).
start_(jonas_son_of_kira,"1987-11-11").
birth_(jonas_born).
agent_(jonas_born,jonas).
start_(jonas_born,"1987-11-11").
income_(kira_wages).
agent_(kira_wages,kira).
amount_(kira_wages,25000).
start_(kira_wages,"2017-12-31").
income_(ivan_wages).
agent_(ivan_wages,ivan).
amount_(ivan_wages,40000).
start_(ivan_wages,"2017-12-31").

% Test
:- tax(ivan,2017,6367).
:- halt.

% Text
% Gil and Hal, married since 2009, file separate returns. Hal moved out of Gil's house to a studio
% on March 1st, 2017. Their son Ian, born December 12th, 2009, lives with Gil, who pays all the house
% costs ($14000 in 2017). Gil was paid $60000 and Hal $30000 in 2017; neither itemizes.
% By hand: Gil keeps the home of Ian, for whom he has a §151 deduction, pays its costs, and Hal was
% not a member of the household in the last six months: not married (§7703(b)), so §1(c)
% (§2(b)(2) has no such rule: Gil is married for head of household status). Standard deduction
% $3,000; exemptions Gil and Ian $4,000; taxable $53,000: §1(c)(ii) $3,315 + 28% of $30,900 =
% $11,967.

% Question
% How much tax does Gil have to pay in 2017? $11967

% Facts
:- [statutes/prolog/init].
marriage_(gil_hal).
agent_(gil_hal,gil).
agent_(gil_hal,hal).
start_(gil_hal,"2009-09-09").
son_(ian_son_of_gil).
agent_(ian_son_of_gil,ian).
patient_(ian_son_of_gil,gil).
start_(ian_son_of_gil,"2009-12-12").
residence_(gil_home).
agent_(gil_home,gil).
patient_(gil_home,gils_house).
start_(gil_home,"2009-09-09").
residence_(ian_home).
agent_(ian_home,ian).
patient_(ian_home,gils_house).
start_(ian_home,"2009-12-12").
residence_(hal_home_with_gil).
agent_(hal_home_with_gil,hal).
patient_(hal_home_with_gil,gils_house).
start_(hal_home_with_gil,"2009-09-09").
end_(hal_home_with_gil,"2017-02-28").
residence_(hal_moves_out).
agent_(hal_moves_out,hal).
patient_(hal_moves_out,hals_studio).
start_(hal_moves_out,"2017-03-01").
payment_(gil_keeps_house).
agent_(gil_keeps_house,gil).
purpose_(gil_keeps_house,gils_house).
amount_(gil_keeps_house,14000).
start_(gil_keeps_house,"2017-09-01").
payment_(gil_salary).
patient_(gil_salary,gil).
amount_(gil_salary,60000).
start_(gil_salary,"2017-12-31").
payment_(hal_salary).
patient_(hal_salary,hal).
amount_(hal_salary,30000).
start_(hal_salary,"2017-12-31").

% Test
:- tax(gil,2017,11967).
:- halt.

% Text
% Greta, single, runs a farm. Four workers, Hal, Ines, Jon and Kai, did agricultural labor for her
% in June 2017. Greta paid each of them in cash in two instalments of $3,000, on June 15th and
% June 30th, 2017 (one payment each, made on both days). Greta's own income in 2017 was
% $100,000; she takes the standard deduction.
% By hand: a payment made on two days is paid on each of them: cash remuneration for
% agricultural labor of 8 x $3,000 = $24,000 >= $20,000 in 2017, so the labor is employment
% (§3306(c)(1)(A)(i)) and Greta an employer (§3306(a)(2)(A): wages $24,000, each worker's
% $6,000 under the $7,000 of (b)(1)). Excise tax 6% = $1,440. Income tax $24,972 (§1(c)(iii) on
% taxable income $100,000 - $3,000 - $2,000 = $95,000). Total $26,412. Before, the cash test
% counted each payment once ($12,000) and the answer was $24,972.

% Question
% How much tax does Greta have to pay in 2017? $26412

% Facts
:- [statutes/prolog/init].
service_(hal_harvest).
agent_(hal_harvest,hal).
patient_(hal_harvest,greta).
purpose_(hal_harvest,"agricultural labor").
start_(hal_harvest,"2017-06-01").
end_(hal_harvest,"2017-06-30").
payment_(greta_pays_hal).
agent_(greta_pays_hal,greta).
patient_(greta_pays_hal,hal).
purpose_(greta_pays_hal,hal_harvest).
means_(greta_pays_hal,"cash").
amount_(greta_pays_hal,3000).
start_(greta_pays_hal,"2017-06-15").
start_(greta_pays_hal,"2017-06-30").
service_(ines_harvest).
agent_(ines_harvest,ines).
patient_(ines_harvest,greta).
purpose_(ines_harvest,"agricultural labor").
start_(ines_harvest,"2017-06-01").
end_(ines_harvest,"2017-06-30").
payment_(greta_pays_ines).
agent_(greta_pays_ines,greta).
patient_(greta_pays_ines,ines).
purpose_(greta_pays_ines,ines_harvest).
means_(greta_pays_ines,"cash").
amount_(greta_pays_ines,3000).
start_(greta_pays_ines,"2017-06-15").
start_(greta_pays_ines,"2017-06-30").
service_(jon_harvest).
agent_(jon_harvest,jon).
patient_(jon_harvest,greta).
purpose_(jon_harvest,"agricultural labor").
start_(jon_harvest,"2017-06-01").
end_(jon_harvest,"2017-06-30").
payment_(greta_pays_jon).
agent_(greta_pays_jon,greta).
patient_(greta_pays_jon,jon).
purpose_(greta_pays_jon,jon_harvest).
means_(greta_pays_jon,"cash").
amount_(greta_pays_jon,3000).
start_(greta_pays_jon,"2017-06-15").
start_(greta_pays_jon,"2017-06-30").
service_(kai_harvest).
agent_(kai_harvest,kai).
patient_(kai_harvest,greta).
purpose_(kai_harvest,"agricultural labor").
start_(kai_harvest,"2017-06-01").
end_(kai_harvest,"2017-06-30").
payment_(greta_pays_kai).
agent_(greta_pays_kai,greta).
patient_(greta_pays_kai,kai).
purpose_(greta_pays_kai,kai_harvest).
means_(greta_pays_kai,"cash").
amount_(greta_pays_kai,3000).
start_(greta_pays_kai,"2017-06-15").
start_(greta_pays_kai,"2017-06-30").
income_(greta_farm_income).
agent_(greta_farm_income,greta).
amount_(greta_farm_income,100000).
start_(greta_farm_income,"2017-12-31").

% Test
:- tax(greta,2017,26412).
:- halt.

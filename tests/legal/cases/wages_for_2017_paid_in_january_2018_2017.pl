% Text
% Ian worked for Hal from September 1st to December 22nd, 2017. Hal paid him $3000 on October 31st,
% 2017 and the remaining $2000 on January 5th, 2018. Hal, unmarried, earned $30000 in 2017 and does
% not itemize.
% By hand: Hal paid $3,000 of wages during 2017 (§3306(a)(1)(A)): an employer; §3301 taxes the wages
% paid during the calendar year: 6% of $3,000 = $180 (the January payment is 2018's). Income tax
% $30,000 - $5,000 = $25,000: §1(c)(ii) $3,315 + 28% of $2,900 = $4,127. Total $4,307.

% Question
% How much tax does Hal have to pay in 2017? $4307

% Facts
:- [statutes/prolog/init].
service_(ian_paints_for_hal).
agent_(ian_paints_for_hal,ian).
patient_(ian_paints_for_hal,hal).
start_(ian_paints_for_hal,"2017-09-01").
end_(ian_paints_for_hal,"2017-12-22").
payment_(hal_pays_ian_october).
agent_(hal_pays_ian_october,hal).
patient_(hal_pays_ian_october,ian).
purpose_(hal_pays_ian_october,ian_paints_for_hal).
amount_(hal_pays_ian_october,3000).
start_(hal_pays_ian_october,"2017-10-31").
payment_(hal_pays_ian_january).
agent_(hal_pays_ian_january,hal).
patient_(hal_pays_ian_january,ian).
purpose_(hal_pays_ian_january,ian_paints_for_hal).
amount_(hal_pays_ian_january,2000).
start_(hal_pays_ian_january,"2018-01-05").
income_(hal_income_2017).
agent_(hal_income_2017,hal).
amount_(hal_income_2017,30000).
start_(hal_income_2017,"2017-12-31").

% Test
:- tax(hal,2017,4307).
:- halt.

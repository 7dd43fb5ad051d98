% Text
% Ian worked for Hal from September 1st to December 22nd, 2017. Hal paid him $3000 on October 31st,
% 2017 and the remaining $2000 on January 5th, 2018.
% By hand: in 2018 Hal paid $2,000, and in 2017, the preceding year, $3,000: an employer for 2018
% (§3306(a)(1)(A)).

% Question
% Section 3306(a)(1)(A) make Hal an employer for the year 2018. Entailment

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
:- s3306_a_1_A(hal,2018,_).
:- halt.

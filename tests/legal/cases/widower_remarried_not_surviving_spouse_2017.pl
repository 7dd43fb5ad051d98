% Text
% Ivo married Jana on June 6th, 2000. Their son Karl was born on March 3rd, 2005 and has always
% lived with Ivo in Ivo's house, whose costs Ivo pays alone ($12000 in 2017). Jana died on
% March 10th, 2016. Ivo married Lea on October 1st, 2017; Lea moved into the house that day and
% was paid $30000 in 2017. Ivo and Lea file separate returns for 2017. Ivo was paid $50000 in
% 2017; nobody itemizes.
% By hand: Jana died within the two preceding years, but Ivo remarried before the close of 2017:
% not a surviving spouse (§2(a)(2)(A)). Married at the close of the year (§7703(a)(1)), Lea a
% member of the household in the last 6 months (§7703(b)(3) fails), no joint return: §1(d).
% Standard deduction $3,000; exemptions for Ivo and Karl (§151(c)), none for Lea (she has gross
% income): $4,000. $50,000 - $7,000 = $43,000: §1(d)(ii), $2,767.50 + 28% of $24,550 =
% $9,641.50, $9,642.

% Question
% How much tax does ivo have to pay in 2017? $9642

% Facts
:- [statutes/prolog/init].
marriage_(ivo_and_jana).
agent_(ivo_and_jana,ivo).
agent_(ivo_and_jana,jana).
start_(ivo_and_jana,"2000-06-06").
son_(karl_is_ivos_son).
agent_(karl_is_ivos_son,karl).
patient_(karl_is_ivos_son,ivo).
birth_(karl_born).
agent_(karl_born,karl).
start_(karl_born,"2005-03-03").
residence_(ivo_home).
agent_(ivo_home,ivo).
patient_(ivo_home,ivos_house).
start_(ivo_home,"2000-06-06").
residence_(karl_home).
agent_(karl_home,karl).
patient_(karl_home,ivos_house).
start_(karl_home,"2005-03-03").
payment_(ivo_keeps_house).
agent_(ivo_keeps_house,ivo).
purpose_(ivo_keeps_house,ivos_house).
amount_(ivo_keeps_house,12000).
start_(ivo_keeps_house,"2017-06-30").
death_(jana_dies).
agent_(jana_dies,jana).
start_(jana_dies,"2016-03-10").
end_(jana_dies,"2016-03-10").
marriage_(ivo_and_lea).
agent_(ivo_and_lea,ivo).
agent_(ivo_and_lea,lea).
start_(ivo_and_lea,"2017-10-01").
residence_(lea_home).
agent_(lea_home,lea).
patient_(lea_home,ivos_house).
start_(lea_home,"2017-10-01").
payment_(lea_paid).
patient_(lea_paid,lea).
amount_(lea_paid,30000).
start_(lea_paid,"2017-12-31").
payment_(ivo_paid).
patient_(ivo_paid,ivo).
amount_(ivo_paid,50000).
start_(ivo_paid,"2017-12-31").

% Test
:- tax(ivo,2017,9642).
:- halt.

% Text
% Hal has never married. His daughter Gia was born on July 3rd, 2017 and has lived with him in his
% flat, whose costs ($9000 in 2017) he pays alone, since her birth. Hal was paid $40000 in 2017.
% By hand: Gia shares Hal's abode for 182 days of 2017, not more than half of it: not his
% qualifying child (§152(c)(1)(B)); his child with no income and nobody's qualifying child, she
% is his qualifying relative (§152(d)), so he has two exemptions, but the household was not her
% abode for more than half the year: not a head of household (§2(b)(1)(A)). $40,000 - $3,000 -
% $4,000 = $33,000: §1(c)(ii), $3,315 + 28% of $10,900 = $6,367.

% Question
% How much tax does hal have to pay in 2017? $6367

% Facts
:- [statutes/prolog/init].
daughter_(gia_is_hals_daughter).
agent_(gia_is_hals_daughter,gia).
patient_(gia_is_hals_daughter,hal).
start_(gia_is_hals_daughter,"2017-07-03").
birth_(gia_born).
agent_(gia_born,gia).
start_(gia_born,"2017-07-03").
residence_(hal_home).
agent_(hal_home,hal).
patient_(hal_home,hals_flat).
start_(hal_home,"2012-01-01").
residence_(gia_home).
agent_(gia_home,gia).
patient_(gia_home,hals_flat).
start_(gia_home,"2017-07-03").
payment_(hal_keeps_flat).
agent_(hal_keeps_flat,hal).
purpose_(hal_keeps_flat,hals_flat).
amount_(hal_keeps_flat,9000).
start_(hal_keeps_flat,"2017-06-30").
payment_(hal_paid).
patient_(hal_paid,hal).
amount_(hal_paid,40000).
start_(hal_paid,"2017-12-31").

% Test
:- tax(hal,2017,6367).
:- halt.

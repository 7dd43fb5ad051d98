% Text
% Hal has never married. His daughter Gia was born on July 2nd, 2017 and has lived with him in his
% flat, whose costs ($9000 in 2017) he pays alone, since her birth. Hal was paid $40000 in 2017.
% By hand: Gia shares Hal's abode from July 2nd to December 31st, 183 days, more than half of the
% 365-day year: his qualifying child (§152(c)(1)(B)), and he is a head of household
% (§2(b)(1)(A)(i)). $40,000 - $4,400 - $4,000 = $31,600: §1(b)(ii), $4,440 + 28% of $2,000
% = $5,000.

% Question
% How much tax does hal have to pay in 2017? $5000

% Facts
:- [statutes/prolog/init].
daughter_(gia_is_hals_daughter).
agent_(gia_is_hals_daughter,gia).
patient_(gia_is_hals_daughter,hal).
start_(gia_is_hals_daughter,"2017-07-02").
birth_(gia_born).
agent_(gia_born,gia).
start_(gia_born,"2017-07-02").
residence_(hal_home).
agent_(hal_home,hal).
patient_(hal_home,hals_flat).
start_(hal_home,"2012-01-01").
residence_(gia_home).
agent_(gia_home,gia).
patient_(gia_home,hals_flat).
start_(gia_home,"2017-07-02").
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
:- tax(hal,2017,5000).
:- halt.

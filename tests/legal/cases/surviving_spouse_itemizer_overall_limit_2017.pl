% Text
% Kim married Lee on March 3rd, 1990; Lee died on August 8th, 2016. Their son Max, born June 6th,
% 2004, lives with Kim in Kim's house, whose costs Kim pays alone ($20000 in 2017). Max has no
% income. Kim was paid $320000 in 2017 and has itemized deductions of $30000.
% By hand: surviving spouse (§2(a)). §68(b)(1)(A): $300,000; excess $20,000; reduction the lesser
% of $600 and $24,000: itemized deductions $29,400. §151(d)(3): 8 x 2% = 16%, each exemption
% $1,680, two: $3,360. Taxable income $320,000 - $29,400 - $3,360 = $287,240: §1(a)(v),
% $75,528.50 + 39.6% of $37,240 = $90,275.54, $90,276.

% Question
% How much tax does kim have to pay in 2017? $90276

% Facts
:- [statutes/prolog/init].
marriage_(kim_and_lee).
agent_(kim_and_lee,kim).
agent_(kim_and_lee,lee).
start_(kim_and_lee,"1990-03-03").
death_(lee_dies).
agent_(lee_dies,lee).
start_(lee_dies,"2016-08-08").
end_(lee_dies,"2016-08-08").
son_(max_is_kims_son).
agent_(max_is_kims_son,max).
patient_(max_is_kims_son,kim).
residence_(kim_home).
agent_(kim_home,kim).
patient_(kim_home,kims_house).
start_(kim_home,"1990-03-03").
residence_(max_home).
agent_(max_home,max).
patient_(max_home,kims_house).
payment_(kim_keeps_house).
agent_(kim_keeps_house,kim).
purpose_(kim_keeps_house,kims_house).
amount_(kim_keeps_house,20000).
start_(kim_keeps_house,"2017-06-30").
payment_(kim_paid).
patient_(kim_paid,kim).
start_(kim_paid,"2017-12-31").
start_(max_home,"2004-06-06").
birth_(max_born).
agent_(max_born,max).
start_(max_born,"2004-06-06").
amount_(kim_paid,320000).
deduction_(kim_itemizes).
agent_(kim_itemizes,kim).
amount_(kim_itemizes,30000).
start_(kim_itemizes,"2017-12-31").

% Test
:- tax(kim,2017,90276).
:- halt.

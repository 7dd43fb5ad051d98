% Text
% Kim married Lee on March 3rd, 1990; Lee died on August 8th, 2016. Their son Max, born June 6th,
% 1990, lives with Kim in Kim's house, whose costs Kim pays alone ($20000 in 2017). Max has no
% income. Kim was paid $70000 in 2017 and takes the standard deduction.
% By hand: Max is 27, too old to be a qualifying child, but as her son with no income he is her
% qualifying relative, a dependent for whom she is entitled to a deduction: Kim is a surviving
% spouse (§2(a)(1)). $70,000 - $6,000 - $4,000 = $60,000: §1(a)(ii), $5,535 + 28% of
% $23,100 = $12,003.

% Question
% How much tax does kim have to pay in 2017? $12003

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
start_(max_home,"1990-06-06").
birth_(max_born).
agent_(max_born,max).
start_(max_born,"1990-06-06").
amount_(kim_paid,70000).

% Test
:- tax(kim,2017,12003).
:- halt.

% Text
% Celia has never married. Her son Dan, born April 4th, 2008, has always lived with her in her
% house, whose costs ($15000 in 2018) she pays alone. Dan has no income. Celia was paid $400000
% in 2018 and takes the standard deduction.
% By hand: head of household. $18,000 (§63(c)(7)(i)); exemption amount zero (§151(d)(5)).
% Taxable income $382,000: §1(b)(v), $77,485 + 39.6% of $132,000 = $129,757.

% Question
% How much tax does celia have to pay in 2018? $129757

% Facts
:- [statutes/prolog/init].
son_(dan_is_celias_son).
agent_(dan_is_celias_son,dan).
patient_(dan_is_celias_son,celia).
birth_(dan_born).
agent_(dan_born,dan).
start_(dan_born,"2008-04-04").
residence_(celia_home).
agent_(celia_home,celia).
patient_(celia_home,celias_house).
start_(celia_home,"2008-04-04").
residence_(dan_home).
agent_(dan_home,dan).
patient_(dan_home,celias_house).
start_(dan_home,"2008-04-04").
payment_(celia_keeps_house).
agent_(celia_keeps_house,celia).
purpose_(celia_keeps_house,celias_house).
amount_(celia_keeps_house,15000).
start_(celia_keeps_house,"2018-06-30").
payment_(celia_paid).
patient_(celia_paid,celia).
start_(celia_paid,"2018-12-31").
amount_(celia_paid,400000).

% Test
:- tax(celia,2018,129757).
:- halt.

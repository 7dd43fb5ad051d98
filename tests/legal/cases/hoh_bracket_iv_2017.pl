% Text
% Celia has never married. Her son Dan, born April 4th, 2008, has always lived with her in her
% house, whose costs ($15000 in 2017) she pays alone. Dan has no income. Celia was paid
% $208400 in 2017 and takes the standard deduction.
% By hand: head of household as her son is her qualifying child (§2(b)(1)(A)(i)).
% $208,400 - $4,400 - $4,000 = $200,000: §1(b)(iv), $33,385 + 36% of $72,500 = $59,485.
% AGI below $275,000 (§68(b)(1)(B)): no phaseout.

% Question
% How much tax does celia have to pay in 2017? $59485

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
start_(celia_keeps_house,"2017-06-30").
payment_(celia_paid).
patient_(celia_paid,celia).
start_(celia_paid,"2017-12-31").
amount_(celia_paid,208400).

% Test
:- tax(celia,2017,59485).
:- halt.

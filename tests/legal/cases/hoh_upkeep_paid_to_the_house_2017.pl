% Text
% (A restatement of hoh_bracket_iii_top_edge_2017: the upkeep is paid to the house, its patient,
% not for it, its purpose; the answer is the same.)
% Celia has never married. Her son Dan, born April 4th, 2008, has always lived with her in her
% house, whose costs ($15000 in 2017) she pays alone. Dan has no income. Celia was paid
% $135900 in 2017 and takes the standard deduction.
% By hand: Dan is Celia's qualifying child (§152(c)), so she is a head of household
% (§2(b)(1)(A)(i)). $135,900 - $4,400 (§63(c)(2)(B)) - 2 x $2,000 = $127,500, not over
% $127,500: §1(b)(iii), $17,544 + 31% of $51,100 = $33,385. AGI is below $275,000: no
% phaseout.

% Question
% How much tax does celia have to pay in 2017? $33385

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
patient_(celia_keeps_house,celias_house).
amount_(celia_keeps_house,15000).
start_(celia_keeps_house,"2017-06-30").
payment_(celia_paid).
patient_(celia_paid,celia).
start_(celia_paid,"2017-12-31").
amount_(celia_paid,135900).

% Test
:- tax(celia,2017,33385).
:- halt.

% Text
% Doris was born on February 14th, 1948 and married Ed in 1975. Ed died on March 10th, 2016. Their son
% Finn, born July 1st, 2003, lives with Doris in Maple House, whose costs she pays ($15000 in 2017,
% $15500 in 2018). Doris was paid $120000 in each of 2017, 2018 and 2019 and does not itemize.
% By hand: Ed died in 2016, one of the two years before 2017; Finn is a son and a dependent living
% with her: surviving spouse (§2(a)). Standard deduction $6,000 + $600 (aged, §63(f)(1)(A); $600
% since she is a surviving spouse, §63(f)(3)) = $6,600; exemptions Doris and Finn $4,000; taxable
% $109,400: §1(a)(iii), $20,165 + 31% of $20,250 = $26,442.50, rounded up.

% Question
% How much tax does Doris have to pay in 2017? $26443

% Facts
:- [statutes/prolog/init].
birth_(doris_birth).
agent_(doris_birth,doris).
start_(doris_birth,"1948-02-14").
marriage_(doris_ed_marriage).
agent_(doris_ed_marriage,doris).
agent_(doris_ed_marriage,ed).
start_(doris_ed_marriage,"1975-05-05").
death_(ed_death).
patient_(ed_death,ed).
start_(ed_death,"2016-03-10").
son_(finn_son_of_doris).
agent_(finn_son_of_doris,finn).
patient_(finn_son_of_doris,doris).
start_(finn_son_of_doris,"2003-07-01").
residence_(doris_home).
agent_(doris_home,doris).
patient_(doris_home,maple_house).
start_(doris_home,"1980-01-01").
residence_(finn_home).
agent_(finn_home,finn).
patient_(finn_home,maple_house).
start_(finn_home,"2003-07-01").
payment_(doris_upkeep_2017).
agent_(doris_upkeep_2017,doris).
patient_(doris_upkeep_2017,maple_house).
amount_(doris_upkeep_2017,15000).
start_(doris_upkeep_2017,"2017-07-01").
payment_(doris_upkeep_2018).
agent_(doris_upkeep_2018,doris).
patient_(doris_upkeep_2018,maple_house).
amount_(doris_upkeep_2018,15500).
start_(doris_upkeep_2018,"2018-07-01").
payment_(doris_pension_2017).
patient_(doris_pension_2017,doris).
amount_(doris_pension_2017,120000).
start_(doris_pension_2017,"2017-12-31").
payment_(doris_pension_2018).
patient_(doris_pension_2018,doris).
amount_(doris_pension_2018,120000).
start_(doris_pension_2018,"2018-12-31").
payment_(doris_pension_2019).
patient_(doris_pension_2019,doris).
amount_(doris_pension_2019,120000).
start_(doris_pension_2019,"2019-12-31").

% Test
:- tax(doris,2017,26443).
:- halt.

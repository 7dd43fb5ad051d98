% Text
% Dana has been unmarried all her life. Her son Evan was born on March 2nd, 1985. Since 2010
% Dana and Evan have lived together in Dana's house, whose upkeep Dana pays in full every year.
% In 2019 Evan earned $12000 as a mechanic and Dana earned $51000 as a nurse.

% Question
% Dana is a head of household under section 2(b) for the year 2019. Contradiction

% Facts
:- [statutes/prolog/init].
son_(evan_is_son).
agent_(evan_is_son,evan).
patient_(evan_is_son,dana).
start_(evan_is_son,"1985-03-02").
residence_(dana_home).
agent_(dana_home,dana).
agent_(dana_home,evan).
patient_(dana_home,danas_house).
start_(dana_home,"2010-01-01").
payment_(dana_upkeep_2019).
agent_(dana_upkeep_2019,dana).
amount_(dana_upkeep_2019,9400).
purpose_(dana_upkeep_2019,danas_house).
start_(dana_upkeep_2019,"2019-06-30").
income_(evan_wages).
agent_(evan_wages,evan).
amount_(evan_wages,12000).
start_(evan_wages,"2019-12-31").
income_(dana_wages).
agent_(dana_wages,dana).
amount_(dana_wages,51000).
start_(dana_wages,"2019-12-31").

% Test
:- \+ s2_b(dana,_,_,2019).
:- halt.

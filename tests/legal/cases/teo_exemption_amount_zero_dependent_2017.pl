% Text
% Teo is the son of Ula, born on June 1st, 2010; he lives with Ula all of 2017 and has no income.
% Ula earned $30000 in 2017.
% By hand: Teo is Ula's qualifying child (§152(c)), so a deduction under §151 for Teo is
% allowable to Ula, and Teo's exemption amount is zero (§151(d)(2)), not $2,000.

% Question
% Under section 151(d)(2), Teo's exemption amount for 2017 is $2000. Contradiction

% Facts
:- [statutes/prolog/init].
son_(teo_son_of_ula).
agent_(teo_son_of_ula,teo).
patient_(teo_son_of_ula,ula).
start_(teo_son_of_ula,"2010-06-01").
birth_(teo_born).
agent_(teo_born,teo).
start_(teo_born,"2010-06-01").
residence_(teo_home).
agent_(teo_home,teo).
patient_(teo_home,ula_house).
start_(teo_home,"2010-06-01").
residence_(ula_home).
agent_(ula_home,ula).
patient_(ula_home,ula_house).
start_(ula_home,"2005-01-01").
income_(ula_salary).
agent_(ula_salary,ula).
amount_(ula_salary,30000).
start_(ula_salary,"2017-12-31").

% Test
:- \+ s151_d_2(_,teo,_,2000,2017).
:- halt.

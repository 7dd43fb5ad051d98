% Text
% Milo is the son of Nora, born on February 10th, 2001; he lives with Nora all of 2017. Milo was
% paid $1000 in 2017, Nora $30000.
% By hand: Milo is Nora's qualifying child (§152(c)), so a deduction under §151 for him is
% allowable to Nora: §63(c)(5) applies to him; (B) is $250 plus his earned income, $1,250,
% the greater of (A) $500 and (B).

% Question
% Under section 63(c)(5)(B), Milo's amount for 2017 is $1250. Entailment

% Facts
:- [statutes/prolog/init].
son_(milo_son_of_nora).
agent_(milo_son_of_nora,milo).
patient_(milo_son_of_nora,nora).
start_(milo_son_of_nora,"2001-02-10").
birth_(milo_born).
agent_(milo_born,milo).
start_(milo_born,"2001-02-10").
residence_(milo_home).
agent_(milo_home,milo).
patient_(milo_home,nora_house).
start_(milo_home,"2001-02-10").
residence_(nora_home).
agent_(nora_home,nora).
patient_(nora_home,nora_house).
start_(nora_home,"2005-01-01").
income_(nora_salary).
agent_(nora_salary,nora).
amount_(nora_salary,30000).
start_(nora_salary,"2017-12-31").

payment_(milo_paid).
patient_(milo_paid,milo).
start_(milo_paid,"2017-08-31").
amount_(milo_paid,1000).

% Test
:- s63_c_5_B(milo,2017,1250).
:- halt.

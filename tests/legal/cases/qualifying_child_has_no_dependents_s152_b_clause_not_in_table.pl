% Text
% Pat, born 1975-05-05, has never married. His son Quy, born 2000-02-10, has lived with him in
% Pat's house all his life. In 2017 Pat earned $40000 and Quy $3000.
% By hand: Quy is Pat's qualifying child for 2017 (son, same abode all year, 17 and younger than
% Pat, no joint return: §152(c)(1)), so Pat's dependent (§152(a)(1)); by §152(b)(1) Quy is
% treated as having no dependents for 2017. An exception of §152(b) reaches Quy.

% Question
% Section 152(b) applies to Quy for 2017. Entailment

% Facts
:- [statutes/prolog/init].
birth_(pat_born).
agent_(pat_born,pat).
start_(pat_born,"1975-05-05").
son_(quy_son).
agent_(quy_son,quy).
patient_(quy_son,pat).
start_(quy_son,"2000-02-10").
residence_(pat_home).
agent_(pat_home,pat).
agent_(pat_home,quy).
patient_(pat_home,pat_house).
start_(pat_home,"2000-02-10").
income_(pat_wages).
agent_(pat_wages,pat).
amount_(pat_wages,40000).
start_(pat_wages,"2017-12-31").
income_(quy_wages).
agent_(quy_wages,quy).
amount_(quy_wages,3000).
start_(quy_wages,"2017-08-31").

% Test
:- s152_b(quy,2017).
:- halt.

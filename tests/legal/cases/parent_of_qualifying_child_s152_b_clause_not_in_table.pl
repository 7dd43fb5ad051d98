% Text
% Pat, born 1975-05-05, has never married. His son Quy, born 2000-02-10, has lived with him in
% Pat's house all his life. In 2017 Pat earned $40000 and Quy $3000.
% By hand: Pat has income, so he is nobody's qualifying relative (§152(d)(1)(B)), and he is
% older than Quy, so not Quy's qualifying child (§152(c)(3)): he is no dependent ((b)(1) does
% not reach him), and he made no joint return ((b)(2)): §152(b) does not apply to Pat.

% Question
% Section 152(b) applies to Pat for 2017. Contradiction

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
:- \+ s152_b(pat,2017).
:- halt.

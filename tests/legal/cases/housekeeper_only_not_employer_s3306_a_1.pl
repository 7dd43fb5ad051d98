% Text
% Quin kept house for Pat in Pat's home in 2016 and 2017. Pat paid Quin $700 in cash on June
% 1st, 2016, $400 in cash on December 20th, 2016 and $600 in cash on November 30th, 2017.
% By hand: the only wages are for domestic service, which §3306(a)(1) leaves out (its last
% sentence): Pat is no employer under (a)(1).

% Question
% Pat is an employer under section 3306(a)(1) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
residence_(pat_lives).
agent_(pat_lives,pat).
patient_(pat_lives,pats_home).
start_(pat_lives,"2010-01-01").
service_(quin_keeps_house).
agent_(quin_keeps_house,quin).
patient_(quin_keeps_house,pat).
purpose_(quin_keeps_house,"domestic service").
location_(quin_keeps_house,"private home").
start_(quin_keeps_house,"2016-01-01").
end_(quin_keeps_house,"2017-12-31").
payment_(pat_pays_quin_0).
agent_(pat_pays_quin_0,pat).
patient_(pat_pays_quin_0,quin).
purpose_(pat_pays_quin_0,quin_keeps_house).
amount_(pat_pays_quin_0,700).
means_(pat_pays_quin_0,cash).
start_(pat_pays_quin_0,"2016-06-01").
payment_(pat_pays_quin_1).
agent_(pat_pays_quin_1,pat).
patient_(pat_pays_quin_1,quin).
purpose_(pat_pays_quin_1,quin_keeps_house).
amount_(pat_pays_quin_1,400).
means_(pat_pays_quin_1,cash).
start_(pat_pays_quin_1,"2016-12-20").
payment_(pat_pays_quin_2017).
agent_(pat_pays_quin_2017,pat).
patient_(pat_pays_quin_2017,quin).
purpose_(pat_pays_quin_2017,quin_keeps_house).
amount_(pat_pays_quin_2017,600).
means_(pat_pays_quin_2017,cash).
start_(pat_pays_quin_2017,"2017-11-30").
payment_(pat_salary_2017).
patient_(pat_salary_2017,pat).
amount_(pat_salary_2017,50000).
start_(pat_salary_2017,"2017-12-31").

% Test
:- \+ s3306_a_1(pat,2017,_).
:- halt.

% Text
% Ravi runs a bicycle repair shop. In 2018 he hired Sol for single days, each time paying him
% $90 in cash at the end of the day: Saturday March 3rd and Sunday March 4th, Saturday April
% 14th and Sunday April 15th, Saturday June 9th and Sunday June 10th, Saturday August 18th and
% Sunday August 19th, Saturday October 27th and Sunday October 28th.

% Question
% Section 3306(a)(1)(B) applies to Ravi for the year 2018. Entailment

% Facts
:- [statutes/prolog/init].
business_(ravis_shop).
agent_(ravis_shop,ravi).
service_(shift_1).
agent_(shift_1,sol).
patient_(shift_1,ravi).
start_(shift_1,"2018-03-03").
end_(shift_1,"2018-03-03").
payment_(pay_1).
agent_(pay_1,ravi).
patient_(pay_1,sol).
amount_(pay_1,90).
purpose_(pay_1,shift_1).
start_(pay_1,"2018-03-03").
service_(shift_2).
agent_(shift_2,sol).
patient_(shift_2,ravi).
start_(shift_2,"2018-03-04").
end_(shift_2,"2018-03-04").
payment_(pay_2).
agent_(pay_2,ravi).
patient_(pay_2,sol).
amount_(pay_2,90).
purpose_(pay_2,shift_2).
start_(pay_2,"2018-03-04").
service_(shift_3).
agent_(shift_3,sol).
patient_(shift_3,ravi).
start_(shift_3,"2018-04-14").
end_(shift_3,"2018-04-14").
payment_(pay_3).
agent_(pay_3,ravi).
patient_(pay_3,sol).
amount_(pay_3,90).
purpose_(pay_3,shift_3).
start_(pay_3,"2018-04-14").
service_(shift_4).
agent_(shift_4,sol).
patient_(shift_4,ravi).
start_(shift_4,"2018-04-15").
end_(shift_4,"2018-04-15").
payment_(pay_4).
agent_(pay_4,ravi).
patient_(pay_4,sol).
amount_(pay_4,90).
purpose_(pay_4,shift_4).
start_(pay_4,"2018-04-15").
service_(shift_5).
agent_(shift_5,sol).
patient_(shift_5,ravi).
start_(shift_5,"2018-06-09").
end_(shift_5,"2018-06-09").
payment_(pay_5).
agent_(pay_5,ravi).
patient_(pay_5,sol).
amount_(pay_5,90).
purpose_(pay_5,shift_5).
start_(pay_5,"2018-06-09").
service_(shift_6).
agent_(shift_6,sol).
patient_(shift_6,ravi).
start_(shift_6,"2018-06-10").
end_(shift_6,"2018-06-10").
payment_(pay_6).
agent_(pay_6,ravi).
patient_(pay_6,sol).
amount_(pay_6,90).
purpose_(pay_6,shift_6).
start_(pay_6,"2018-06-10").
service_(shift_7).
agent_(shift_7,sol).
patient_(shift_7,ravi).
start_(shift_7,"2018-08-18").
end_(shift_7,"2018-08-18").
payment_(pay_7).
agent_(pay_7,ravi).
patient_(pay_7,sol).
amount_(pay_7,90).
purpose_(pay_7,shift_7).
start_(pay_7,"2018-08-18").
service_(shift_8).
agent_(shift_8,sol).
patient_(shift_8,ravi).
start_(shift_8,"2018-08-19").
end_(shift_8,"2018-08-19").
payment_(pay_8).
agent_(pay_8,ravi).
patient_(pay_8,sol).
amount_(pay_8,90).
purpose_(pay_8,shift_8).
start_(pay_8,"2018-08-19").
service_(shift_9).
agent_(shift_9,sol).
patient_(shift_9,ravi).
start_(shift_9,"2018-10-27").
end_(shift_9,"2018-10-27").
payment_(pay_9).
agent_(pay_9,ravi).
patient_(pay_9,sol).
amount_(pay_9,90).
purpose_(pay_9,shift_9).
start_(pay_9,"2018-10-27").
service_(shift_10).
agent_(shift_10,sol).
patient_(shift_10,ravi).
start_(shift_10,"2018-10-28").
end_(shift_10,"2018-10-28").
payment_(pay_10).
agent_(pay_10,ravi).
patient_(pay_10,sol).
amount_(pay_10,90).
purpose_(pay_10,shift_10).
start_(pay_10,"2018-10-28").

% Test
:- s3306_a_1_B(ravi,2018).
:- halt.

% Text
% Alice paid $19000 in cash to Bob for agricultural labor he did on her farm from March 1st to
% October 31st, 2016. She employed nobody in 2017.
% By hand: under $20,000: §3306(a)(2)(A) does not make Alice an employer for 2017.

% Question
% Section 3306(a)(2)(A) makes Alice an employer for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
service_(alice_employer).
agent_(alice_employer,bob).
patient_(alice_employer,alice).
start_(alice_employer,"2016-03-01").
end_(alice_employer,"2016-10-31").
purpose_(alice_employer,"agricultural labor").
payment_(alice_pays).
agent_(alice_pays,alice).
patient_(alice_pays,bob).
purpose_(alice_pays,alice_employer).
means_(alice_pays,"cash").
amount_(alice_pays,19000).
start_(alice_pays,"2016-10-31").

% Test
:- \+ s3306_a_2_A(alice,2017,_).
:- halt.

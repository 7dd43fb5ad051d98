% Text
% Alice paid $7000 in cash to each of Bob, Carl and Dan for agricultural labor they did on her
% farm from March 1st to October 31st, 2016. She employed nobody in 2017.
% By hand: wages of $21,000 (each within the $7,000 of §3306(b)(1)) for agricultural labor in
% the preceding calendar year: §3306(a)(2)(A) makes Alice an employer for 2017. (One worker
% paid $21,000 would not do: wages are capped per employee by §3306(b)(1).)

% Question
% Section 3306(a)(2)(A) makes Alice an employer for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
service_(bob_works).
agent_(bob_works,bob).
patient_(bob_works,alice).
start_(bob_works,"2016-03-01").
end_(bob_works,"2016-10-31").
purpose_(bob_works,"agricultural labor").
payment_(alice_pays_bob).
agent_(alice_pays_bob,alice).
patient_(alice_pays_bob,bob).
purpose_(alice_pays_bob,bob_works).
means_(alice_pays_bob,"cash").
amount_(alice_pays_bob,7000).
start_(alice_pays_bob,"2016-10-31").
service_(carl_works).
agent_(carl_works,carl).
patient_(carl_works,alice).
start_(carl_works,"2016-03-01").
end_(carl_works,"2016-10-31").
purpose_(carl_works,"agricultural labor").
payment_(alice_pays_carl).
agent_(alice_pays_carl,alice).
patient_(alice_pays_carl,carl).
purpose_(alice_pays_carl,carl_works).
means_(alice_pays_carl,"cash").
amount_(alice_pays_carl,7000).
start_(alice_pays_carl,"2016-10-31").
service_(dan_works).
agent_(dan_works,dan).
patient_(dan_works,alice).
start_(dan_works,"2016-03-01").
end_(dan_works,"2016-10-31").
purpose_(dan_works,"agricultural labor").
payment_(alice_pays_dan).
agent_(alice_pays_dan,alice).
patient_(alice_pays_dan,dan).
purpose_(alice_pays_dan,dan_works).
means_(alice_pays_dan,"cash").
amount_(alice_pays_dan,7000).
start_(alice_pays_dan,"2016-10-31").

% Test
:- s3306_a_2_A(alice,2017,_).
:- halt.

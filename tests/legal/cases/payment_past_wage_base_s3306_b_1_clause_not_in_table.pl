% Text
% Alice employed Bob in her shop from January 2nd to December 22nd, 2017 and paid him $5000 in
% cash on June 30th and $5000 on December 22nd, 2017.
% By hand: the part of the December payment beyond $7,000 paid in the year ($3,000) is not
% wages: §3306(b)(1) applies to it.

% Question
% Section 3306(b)(1) applies to the payment Alice made to Bob on December 22nd, 2017. Entailment

% Facts
:- [statutes/prolog/init].
service_(alice_employer).
agent_(alice_employer,bob).
patient_(alice_employer,alice).
start_(alice_employer,"2017-01-02").
end_(alice_employer,"2017-12-22").
payment_(alice_pays_june).
agent_(alice_pays_june,alice).
patient_(alice_pays_june,bob).
purpose_(alice_pays_june,alice_employer).
means_(alice_pays_june,"cash").
amount_(alice_pays_june,5000).
start_(alice_pays_june,"2017-06-30").
payment_(alice_pays_december).
agent_(alice_pays_december,alice).
patient_(alice_pays_december,bob).
purpose_(alice_pays_december,alice_employer).
means_(alice_pays_december,"cash").
amount_(alice_pays_december,5000).
start_(alice_pays_december,"2017-12-22").

% Test
:- s3306_b_1(alice_pays_december,alice_employer,alice,bob).
:- halt.

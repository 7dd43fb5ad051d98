% Text
% Alice was paid $41000 in 2017 as an employee of Acme Widgets in Annapolis, Maryland.
% By hand: a private company is not a State or a political subdivision: §3306(c)(7) does not apply.

% Question
% Section 3306(c)(7) applies to Alice's employment situation in 2017. Contradiction

% Facts
:- [statutes/prolog/init].
service_(alice_employed).
patient_(alice_employed,"acme widgets").
agent_(alice_employed,alice).
start_(alice_employed,"2017-01-01").
end_(alice_employed,"2017-12-31").
location_(alice_employed,"annapolis").
payment_(alice_is_paid).
agent_(alice_is_paid,"acme widgets").
patient_(alice_is_paid,alice).
start_(alice_is_paid,"2017-12-31").
purpose_(alice_is_paid,alice_employed).
amount_(alice_is_paid,41000).

% Test
:- \+ s3306_c_7(alice_employed).
:- halt.

% Text
% Alice was paid $41000 in 2017 as an employee of the State of Maryland in Annapolis, Maryland.
% By hand: service in the employ of a State: §3306(c)(7).

% Question
% Section 3306(c)(7) applies to Alice's employment situation in 2017. Entailment

% Facts
:- [statutes/prolog/init].
service_(alice_employed).
patient_(alice_employed,"state of maryland").
agent_(alice_employed,alice).
start_(alice_employed,"2017-01-01").
end_(alice_employed,"2017-12-31").
location_(alice_employed,"annapolis").
payment_(alice_is_paid).
agent_(alice_is_paid,"state of maryland").
patient_(alice_is_paid,alice).
start_(alice_is_paid,"2017-12-31").
purpose_(alice_is_paid,alice_employed).
amount_(alice_is_paid,41000).

% Test
:- s3306_c_7(alice_employed).
:- halt.

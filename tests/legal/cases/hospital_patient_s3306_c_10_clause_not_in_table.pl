% Text
% Alice was paid $200 in March 2017 for services performed at Mercy Hospital, where she was a
% patient from March 15th, 2017 to April 2nd, 2017.
% By hand: service in the employ of a hospital by a patient of it (§3306(c)(10)(B)), so
% §3306(c)(10) applies (its (A) or its (B)).

% Question
% Section 3306(c)(10) applies to Alice's employment at Mercy Hospital. Entailment

% Facts
:- [statutes/prolog/init].
hospital_(mercy_is_a_hospital).
agent_(mercy_is_a_hospital,"mercy hospital").
service_(alice_employed).
patient_(alice_employed,"mercy hospital").
agent_(alice_employed,alice).
start_(alice_employed,"2017-03-20").
end_(alice_employed,"2017-03-31").
payment_(alice_is_paid).
agent_(alice_is_paid,"mercy hospital").
patient_(alice_is_paid,alice).
start_(alice_is_paid,"2017-03-31").
purpose_(alice_is_paid,alice_employed).
amount_(alice_is_paid,200).
medical_patient_(alice_at_mercy).
agent_(alice_at_mercy,alice).
patient_(alice_at_mercy,"mercy hospital").
start_(alice_at_mercy,"2017-03-15").
end_(alice_at_mercy,"2017-04-02").

% Test
:- s3306_c_10(alice_employed).
:- halt.

% Text
% Dario worked for Carmen from March 1st, 2012 until he died on June 30th, 2018, which ended
% his employment. Dario had been married to Elsa since 2001. On August 15th, 2018 Carmen paid
% Elsa $8000 because Dario's employment had ended with his death.
% By hand: the payment was made after the termination of Dario's employment relationship,
% because of his death: §3306(b)(10)(A)(i).

% Question
% Section 3306(b)(10)(A)(i) applies to Carmen's payment to Elsa for Dario's work. Entailment

% Facts
:- [statutes/prolog/init].
service_(dario_works).
agent_(dario_works,dario).
patient_(dario_works,carmen).
start_(dario_works,"2012-03-01").
end_(dario_works,"2018-06-30").
death_(dario_died).
agent_(dario_died,dario).
start_(dario_died,"2018-06-30").
marriage_(dario_elsa).
agent_(dario_elsa,dario).
agent_(dario_elsa,elsa).
start_(dario_elsa,"2001-09-01").
termination_(dario_termination).
agent_(dario_termination,carmen).
patient_(dario_termination,dario_works).
reason_(dario_termination,dario_died).
start_(dario_termination,"2018-06-30").
payment_(carmen_pays_elsa).
agent_(carmen_pays_elsa,carmen).
patient_(carmen_pays_elsa,elsa).
purpose_(carmen_pays_elsa,dario_termination).
amount_(carmen_pays_elsa,8000).
start_(carmen_pays_elsa,"2018-08-15").

% Test
:- s3306_b_10_A_i(carmen_pays_elsa,dario_works,dario).
:- halt.

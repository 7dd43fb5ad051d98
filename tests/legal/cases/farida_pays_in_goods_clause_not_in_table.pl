% Text
% On 2017-09-12 Dov did agricultural labor on Farida's farm for the day, and Farida paid him
% $6,000 in goods.
% By hand: remuneration for agricultural labor paid in a medium other than cash: §3306(b)(11).
% The question names the payment after the service and the people, as the dataset's (b)(7)
% questions do.

% Question
% Section 3306(b)(11) applies to the payment Farida made to Dov. Entailment

% Facts
:- [statutes/prolog/init].
service_(dov_harvest).
agent_(dov_harvest,dov).
patient_(dov_harvest,farida).
purpose_(dov_harvest,"agricultural labor").
start_(dov_harvest,"2017-09-12").
end_(dov_harvest,"2017-09-12").
payment_(farida_pays_dov).
agent_(farida_pays_dov,farida).
patient_(farida_pays_dov,dov).
purpose_(farida_pays_dov,dov_harvest).
means_(farida_pays_dov,"goods").
amount_(farida_pays_dov,6000).
start_(farida_pays_dov,"2017-09-12").

% Test
:- s3306_b_11(dov_harvest,farida_pays_dov,farida,dov).
:- halt.

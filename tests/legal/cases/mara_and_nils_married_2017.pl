% Text
% Mara and Nils have been married since June 1st, 2012. They file separate returns for 2017.
% Mara was paid $30000 in 2017 and Nils $40000; neither itemizes.
% By hand: married on the last day of 2017 (§7703(a)(1)), no decree of separation.

% Question
% Mara and Nils are married under section 7703 for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(mara_and_nils).
agent_(mara_and_nils,mara).
agent_(mara_and_nils,nils).
start_(mara_and_nils,"2012-06-01").
payment_(mara_pay).
patient_(mara_pay,mara).
amount_(mara_pay,30000).
start_(mara_pay,"2017-12-31").
payment_(nils_pay).
patient_(nils_pay,nils).
amount_(nils_pay,40000).
start_(nils_pay,"2017-12-31").

% Test
:- s7703(mara,nils,_,_,_,_,_,_,2017).
:- halt.

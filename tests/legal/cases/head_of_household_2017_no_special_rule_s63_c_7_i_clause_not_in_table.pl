% Text
% Dina, divorced since 2012, is a head of household in 2017 by reason of her daughter Eve.
% By hand: §63(c)(7) applies "in the case of a taxable year beginning after December 31, 2017,
% and before January 1, 2026": its substitution of $18,000 for $4,400 in (2)(B), (7)(i), does
% not apply to Dina's 2017 taxable year.

% Question
% Section 63(c)(7)(i) applies to Dina for 2017 with an amount of $18000. Contradiction

% Facts
:- [statutes/prolog/init].
birth_(dina_born).
agent_(dina_born,dina).
start_(dina_born,"1950-03-09").
blindness_(dina_blind).
agent_(dina_blind,dina).
start_(dina_blind,"2001-01-01").
marriage_(dina_olaf).
agent_(dina_olaf,dina).
agent_(dina_olaf,olaf).
start_(dina_olaf,"1990-06-02").
legal_separation_(dina_olaf_divorce).
agent_(dina_olaf_divorce,decree_of_divorce).
patient_(dina_olaf_divorce,dina_olaf).
start_(dina_olaf_divorce,"2012-05-14").
daughter_(eve_daughter).
agent_(eve_daughter,eve).
patient_(eve_daughter,dina).
start_(eve_daughter,"2005-08-20").
residence_(dina_home).
agent_(dina_home,dina).
agent_(dina_home,eve).
patient_(dina_home,dina_house).
start_(dina_home,"2005-08-20").
payment_(dina_house_costs).
agent_(dina_house_costs,dina).
purpose_(dina_house_costs,dina_house).
amount_(dina_house_costs,12000).
start_(dina_house_costs,"2017-03-01").
income_(dina_wages).
agent_(dina_wages,dina).
amount_(dina_wages,50000).
start_(dina_wages,"2017-12-31").

% Test
:- \+ s63_c_7_i(dina,2017,18000).
:- halt.

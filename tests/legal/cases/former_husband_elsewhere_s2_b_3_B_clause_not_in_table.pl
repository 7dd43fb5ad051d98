% Text
% Dina, divorced from Olaf since 2012, keeps a house whose costs she pays alone, where her
% daughter Eve, born 2005-08-20, has lived with her all her life. Olaf does not live with them.
% By hand: §2(b)(3)(B) speaks of "an individual who would not be a dependent for the taxable year
% but for subparagraph (H) of section 152(d)(2)": one whom (H) makes a dependent. Olaf does not
% share Dina's abode, so (H) does not make him her dependent, and no head of household status
% could rest on him: (3)(B) does not apply to Dina by reason of Olaf.

% Question
% Section 2(b)(3)(B) applies to Dina by reason of Olaf in 2017. Contradiction

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
:- \+ s2_b_3_B(dina,olaf,2017).
:- halt.

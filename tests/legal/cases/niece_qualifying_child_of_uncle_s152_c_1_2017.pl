% Text
% Pat, born March 3rd, 1975, has never married and owns a house whose costs he pays ($18000 in
% 2017). His niece Quy, the daughter of his sister Sia (Sia lives in her own flat), was born August
% 8th, 2002 and has lived in Pat's house since 2012. Pat's brother Ray, born October 10th, 1977,
% moved in on June 1st, 2015; Ray has no income. Sia earned $30000 in 2017. Pat was paid $72000 in 2017 and does not itemize.
% By hand: Quy descends from Pat's sister, lives with him all year and is 15: qualifying child.

% Question
% Under section 152(c)(1), Quy is a qualifying child of Pat for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
birth_(pat_born).
agent_(pat_born,pat).
start_(pat_born,"1975-03-03").
sister_(sia_is_pats_sister).
agent_(sia_is_pats_sister,sia).
patient_(sia_is_pats_sister,pat).
income_(sia_income).
agent_(sia_income,sia).
amount_(sia_income,30000).
start_(sia_income,"2017-12-31").
mother_(sia_mother_of_quy).
agent_(sia_mother_of_quy,sia).
patient_(sia_mother_of_quy,quy).
start_(sia_mother_of_quy,"2002-08-08").
brother_(ray_is_pats_brother).
agent_(ray_is_pats_brother,ray).
patient_(ray_is_pats_brother,pat).
birth_(ray_born).
agent_(ray_born,ray).
start_(ray_born,"1977-10-10").
residence_(pat_home).
agent_(pat_home,pat).
patient_(pat_home,pats_house).
start_(pat_home,"2000-01-01").
residence_(quy_home).
agent_(quy_home,quy).
patient_(quy_home,pats_house).
start_(quy_home,"2012-01-01").
residence_(ray_home).
agent_(ray_home,ray).
patient_(ray_home,pats_house).
start_(ray_home,"2015-06-01").
residence_(sia_home).
agent_(sia_home,sia).
patient_(sia_home,sias_flat).
start_(sia_home,"2000-01-01").
payment_(pat_house_costs).
agent_(pat_house_costs,pat).
purpose_(pat_house_costs,pats_house).
amount_(pat_house_costs,18000).
start_(pat_house_costs,"2017-10-01").
payment_(pat_wages).
patient_(pat_wages,pat).
amount_(pat_wages,72000).
start_(pat_wages,"2017-12-31").

% Test
:- s152_c_1(quy,pat,2017).
:- halt.
